import { keccak256 } from 'ethers';
import { bytes32Word } from './abi-words';

/**
 * The seed that renders: keccak256(abi.encode(request seed, hash of the block that holds the request)). The requester
 * cannot know the block's hash when its transaction runs, so it cannot grind its address or timing for a seed.
 * `aigc verify` and the mint page recompute it from the chain. Both values are one ABI word each, so the encoding is
 * their concatenation (held to ethers' `abi.encode` by `request-encoding.test.ts`).
 */
export function renderSeedOf(r: { seed: string; blockHash: string }): string {
  return keccak256(`0x${bytes32Word(r.seed)}${bytes32Word(r.blockHash)}`);
}
