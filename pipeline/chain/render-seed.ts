import { keccak256 } from 'ethers';

/**
 * The seed that renders: keccak256(abi.encode(request seed, hash of the block that holds the request)). The requester
 * cannot know the block's hash when its transaction runs, so it cannot grind its address or timing for a seed.
 * `aigc verify` and the mint page recompute it from the chain. Both values are one ABI word each, so the encoding is
 * their concatenation (held to ethers' `abi.encode` by `request-encoding.test.ts`).
 */
export function renderSeedOf(r: { seed: string; blockHash: string }): string {
  return keccak256(`0x${word(r.seed)}${word(r.blockHash)}`);
}

function word(value: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new TypeError(`not 32 bytes of hex: ${value}`);
  return value.slice(2).toLowerCase();
}
