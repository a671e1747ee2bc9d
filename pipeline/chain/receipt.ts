import type { JsonRpcProvider } from 'ethers';

/** A log as the node reads it: what decoding and bookkeeping need, nothing formatted. */
export type ReceiptLog = {
  address: string;
  topics: string[];
  data: string;
  index: number;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
};

/** A mined transaction's receipt, reduced to what the node checks. */
export type Receipt = { hash: string; blockNumber: number; status: number; gasUsed: bigint; logs: ReceiptLog[] };

type RpcLog = { address: string; topics: string[]; data: string; logIndex: string; blockNumber: string; blockHash: string; transactionHash: string };
type RpcReceipt = { transactionHash: string; blockNumber: string; status: string; gasUsed: string; logs: RpcLog[] };

/**
 * `eth_getTransactionReceipt` without ethers' formatting, which checksums every log's address and builds a
 * frozen object per field: a fulfilment batch's receipt carries four logs per token. Null while not mined.
 */
export async function getReceipt(provider: JsonRpcProvider, hash: string): Promise<Receipt | null> {
  const raw = (await provider.send('eth_getTransactionReceipt', [hash])) as RpcReceipt | null;
  if (!raw?.blockNumber) return null;
  return {
    hash: raw.transactionHash,
    blockNumber: Number(raw.blockNumber),
    status: Number(raw.status),
    gasUsed: BigInt(raw.gasUsed),
    logs: raw.logs.map((l) => ({
      address: l.address,
      topics: l.topics,
      data: l.data,
      index: Number(l.logIndex),
      blockNumber: Number(l.blockNumber),
      blockHash: l.blockHash,
      transactionHash: l.transactionHash,
    })),
  };
}

/**
 * Broadcasts a signed transaction as is. ethers' `broadcastTransaction` parses it back, re-hashes it and recovers
 * its sender before returning; the caller already knows all three. Errors keep ethers' codes (NONCE_EXPIRED, …).
 */
export async function sendRawTransaction(provider: JsonRpcProvider, raw: string): Promise<void> {
  await provider.send('eth_sendRawTransaction', [raw]);
}
