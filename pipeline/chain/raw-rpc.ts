import { type JsonRpcProvider, toQuantity } from 'ethers';

/**
 * JSON-RPC reads and writes without ethers' formatting layer, for the calls a busy node makes per request:
 * ethers checksums every address, builds frozen objects field by field and parses what it sends back again.
 */

/** A log as the node reads it: what decoding and bookkeeping need, nothing formatted. */
export type RawLog = {
  address: string;
  topics: string[];
  data: string;
  index: number;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
};

/** A mined transaction's receipt, reduced to what the node checks. */
export type Receipt = { hash: string; blockNumber: number; status: number; gasUsed: bigint; logs: RawLog[] };

type RpcLog = {
  address: string;
  topics: string[];
  data: string;
  logIndex: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
};
type RpcReceipt = { transactionHash: string; blockNumber: string; status: string; gasUsed: string; logs: RpcLog[] };

/** `eth_getTransactionReceipt`; null while not mined. A fulfilment batch's receipt carries four logs per token. */
export async function getReceipt(provider: JsonRpcProvider, hash: string): Promise<Receipt | null> {
  const raw = (await provider.send('eth_getTransactionReceipt', [hash])) as RpcReceipt | null;
  if (!raw?.blockNumber) return null;
  return {
    hash: raw.transactionHash,
    blockNumber: Number(raw.blockNumber),
    status: Number(raw.status),
    gasUsed: BigInt(raw.gasUsed),
    logs: raw.logs.map(toRawLog),
  };
}

const toRawLog = (l: RpcLog): RawLog => ({
  address: l.address,
  topics: l.topics,
  data: l.data,
  index: Number(l.logIndex),
  blockNumber: Number(l.blockNumber),
  blockHash: l.blockHash,
  transactionHash: l.transactionHash,
});

/**
 * `eth_getLogs` of one contract over an inclusive block range, in chain order. `topic` is topic0, or a list of
 * topic0s any of which matches (several events in one call).
 */
export async function getLogs(
  provider: JsonRpcProvider,
  filter: { address: string; topic: string | string[]; fromBlock: number; toBlock: number },
): Promise<RawLog[]> {
  const logs = (await provider.send('eth_getLogs', [
    { address: filter.address, topics: [filter.topic], fromBlock: toQuantity(filter.fromBlock), toBlock: toQuantity(filter.toBlock) },
  ])) as (RpcLog & { removed?: boolean })[];
  return logs.filter((l) => !l.removed).map(toRawLog);
}

/**
 * Broadcasts a signed transaction as is. ethers' `broadcastTransaction` parses it back, re-hashes it and recovers
 * its sender before returning; the caller already knows all three. Errors keep ethers' codes (NONCE_EXPIRED, …).
 */
export async function sendRawTransaction(provider: JsonRpcProvider, raw: string): Promise<void> {
  await provider.send('eth_sendRawTransaction', [raw]);
}
