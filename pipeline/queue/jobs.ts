import { concat, keccak256 } from 'ethers';
import type { FulfilmentItem, RefundItem, RejectItem } from '../chain/fulfiller';
import { type MintRequest, type MintRequestJson, requestKey } from '../chain/request';

/**
 * Queue names. One queue per concern: `generate` (one for all chains) is GPU-bound; `fulfill-<chainId>` feeds the
 * single writer of its chain; `mint-for-<chainId>` holds sponsored mints (`POST /v1/mints`) until that chain's
 * leader sends their `requestMintFor`; `drop` (one for all chains) is fired by the job schedulers of collections with a
 * `drop`, and turns each firing into a sponsored mint. The per-chain queues are named `${QUEUE.fulfill}-${chainId}` and so on.
 */
export const QUEUE = { generate: 'generate', fulfill: 'fulfill', mintFor: 'mint-for', drop: 'drop' } as const;

/** Why a request was rejected on chain (`reason` of `MintRejected`). */
export const REJECT_REASON = { INVALID_PROMPT: 1, GENERATION_FAILED: 2, CONTENT_REJECTED: 3 } as const;

/** `generate` job: render, store on Arweave, sign. */
export type GenerateJobData = { chainId: number; collection: string; request: MintRequestJson };

/** `fulfill-<chainId>` job of kind `fulfill`: send the signed fulfilment. */
export type FulfillJobData = { kind: 'fulfill'; chainId: number; collection: string } & FulfilmentItem;

/** `fulfill-<chainId>` job of kind `reject`: end a request that cannot be served, refunding the requester. */
export type RejectJobData = { kind: 'reject'; chainId: number; collection: string; message: string } & RejectItem;

/** `fulfill-<chainId>` job of kind `refund`: end a request whose deadline passed before it was minted. */
export type RefundJobData = { kind: 'refund'; chainId: number; collection: string } & RefundItem;

/** Anything the per-chain `fulfill` queue carries; `kind` says which (the job's name repeats it for dashboards). */
export type ChainWriteJobData = FulfillJobData | RejectJobData | RefundJobData;

/** `mint-for` job: a site asked the operator to pay a mint for `to` (the job id is the mint's public id). */
export type MintForJobData = {
  chainId: number;
  collection: string;
  /** Receives the token (checksummed). */
  to: string;
  prompt: string;
  /** First 8 hex digits of the SHA-256 of the API key that asked, for logs; never the key. `drop-…`: a node's own drop. */
  keyId: string;
  /** ISO time of the call. */
  createdAt: string;
  /**
   * Random id of the call that queued the mint, set by `submitMint`: any other call under the same mint id is a
   * replay, even one in the same millisecond with the same key. Absent in mints queued before it existed.
   */
  submission?: string;
};

/** `drop` job (fired by a collection's job scheduler, or once when a node starts): submit this period's piece. */
export type DropJobData = { chainId: number; collection: string };

/** What a finished `mint-for` job returns: the on-chain request it paid for. */
export type MintForResult = { requestId: string; txHash: string; blockNumber: number };

/**
 * The id every stage uses for one request. Deterministic, so re-enqueueing the same request (after a restart or a
 * re-read of the chain) is a no-op. It includes the start of a hash of the request's stored key and of its block's
 * hash: after a reorg the same request id can come back with another prompt, payer or seed, or in another block
 * (so with another render seed), and must then be served as a new job.
 */
export function requestJobId(chainId: number, collection: string, request: MintRequest | MintRequestJson): string {
  const id = keccak256(concat([requestKey(request), request.blockHash]));
  return `${chainId}-${collection.toLowerCase()}-${request.requestId}-${id.slice(2, 18)}`;
}

/** Which collection a job belongs to: jobs carry the chain id and the address. */
export function collectionKey(chainId: number, address: string): string {
  return `${chainId}:${address.toLowerCase()}`;
}
