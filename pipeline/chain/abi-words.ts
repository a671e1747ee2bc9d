/**
 * Single 32-byte ABI words, as hex without `0x`, for the few static encodings the node makes per request (request
 * keys, `isPending` calldata, render seeds, fulfilment digests) without ethers' general coder. A value outside its
 * type throws rather than being encoded as other bytes. Free of Node.js APIs (the mint page uses it too).
 */

/** A uint256 word. */
export function uintWord(value: bigint): string {
  if (value < 0n || value >= 1n << 256n) throw new RangeError(`${value} is outside uint256`);
  return value.toString(16).padStart(64, '0');
}

/** An address word (any case; checksums are not checked). */
export function addressWord(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new TypeError(`not an address: ${address}`);
  return address.slice(2).toLowerCase().padStart(64, '0');
}

/** A bytes32 word. */
export function bytes32Word(value: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new TypeError(`not 32 bytes of hex: ${value}`);
  return value.slice(2).toLowerCase();
}
