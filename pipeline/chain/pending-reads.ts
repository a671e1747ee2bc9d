import type { Contract, JsonRpcProvider } from 'ethers';
import { collectionInterface } from './collection';
import { uintWord } from './abi-words';
import { type MintRequest, type MintRequestJson, requestWords } from './request';

/**
 * `isPending(requestId, request)` as a bare `eth_call`. The node asks it for every request before rendering and again
 * before sending its fulfilment; through an ethers Contract one call cost ~1.3 ms of CPU here (ABI coder, result
 * formatting, checksums), a tenth of a mint's whole budget. The arguments are eight static words, encoded directly;
 * `pending-reads.test.ts` holds the encoding to ethers' bytes.
 */
const SELECTOR = collectionInterface.getFunction('isPending')!.selector.slice(2);

/** The calldata of `isPending(requestId, request)`, equal to `Interface.encodeFunctionData`'s. */
export function isPendingCalldata(r: MintRequest | MintRequestJson): string {
  return `0x${SELECTOR}${uintWord(BigInt(r.requestId))}${requestWords(r)}`;
}

/**
 * Whether the collection at `address` still holds `request` open (not minted, rejected or refunded), read at the
 * latest block.
 *
 * @example
 * if (!(await isPendingOnChain(provider, collection, request))) return; // ended meanwhile
 */
export async function isPendingOnChain(
  provider: JsonRpcProvider,
  address: string,
  request: MintRequest | MintRequestJson,
): Promise<boolean> {
  const result = (await provider.send('eth_call', [{ to: address, data: isPendingCalldata(request) }, 'latest'])) as string;
  if (!/^0x[0-9a-fA-F]{64}$/.test(result)) throw new Error(`isPending answered ${result.slice(0, 80)}: is ${address} a collection?`);
  return BigInt(result) === 1n;
}

/**
 * `isPendingOnChain` for a connected collection `Contract` (its runner's JSON-RPC provider and its address).
 *
 * @example
 * const open = await isPending(collection, request);
 */
export async function isPending(contract: Contract, request: MintRequest | MintRequestJson): Promise<boolean> {
  const provider = (contract.runner?.provider ?? contract.runner) as JsonRpcProvider | null;
  if (typeof provider?.send !== 'function') throw new Error('isPending needs a collection connected to a JSON-RPC provider');
  return isPendingOnChain(provider, await contract.getAddress(), request);
}
