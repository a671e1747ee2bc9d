/**
 * Render seeds. A request carries a seed of up to 256 bits (the collection contract fixes a bytes32 seed per
 * request); each backend declares how many bits it accepts (`capabilities.seedBits`) and receives the seed reduced
 * to that width: `seed mod 2^bits`, i.e. its low bits.
 */

/** Widest seed a request may carry. */
export const MAX_SEED_BITS = 256;
export const MAX_SEED = (1n << BigInt(MAX_SEED_BITS)) - 1n;

/**
 * `seed mod 2^bits`: the low `bits` bits of `seed`.
 *
 * @example
 * reduceSeed(0x1_0000_0007n, 32); // 7n
 */
export function reduceSeed(seed: bigint, bits: number): bigint {
  return bits >= MAX_SEED_BITS ? seed : seed & ((1n << BigInt(bits)) - 1n);
}

/** The seed as a backend receives it: a number when it is a safe integer, else a bigint (which JS numbers can't hold exactly). */
export function seedValue(seed: bigint): number | bigint {
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed;
}

/** A seed as the JSON value that keeps it exact: a number when it is a safe integer, else its decimal string. */
export function seedJson(seed: number | bigint): number | string {
  return typeof seed === 'number' ? seed : seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed.toString();
}
