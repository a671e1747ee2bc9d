import type { Job, Queue } from 'bullmq';
import type { Contract, EventLog } from 'ethers';
import type { Redis } from 'ioredis';
import { type MintRequestJson, parseMintRequested, requestStruct, requestToJson } from './chain/request';
import type { ChainWriteJobData, GenerateJobData, MintForJobData, MintForResult, RejectJobData } from './queue/jobs';
import { requestJobId } from './queue/jobs';
import { findIndexedRequest, indexRequests } from './queue/request-index';

/** The stages a mint goes through, in order; the last four are final. */
export const MINT_STATUSES = ['queued', 'requested', 'rendering', 'rendered', 'minted', 'rejected', 'refunded', 'failed'] as const;
export type MintStatusName = (typeof MINT_STATUSES)[number];

const FINAL: ReadonlySet<MintStatusName> = new Set(['minted', 'rejected', 'refunded', 'failed']);

/** True for a status that will not change any more. */
export function isFinalStatus(status: MintStatusName): boolean {
  return FINAL.has(status);
}

/** Where an on-chain request stands (`GET /v1/requests/:requestId`), wallet-made or sponsored. */
export type RequestStatus = {
  requestId: string;
  collection: string;
  status: Exclude<MintStatusName, 'queued' | 'failed'>;
  /** Paid (and is refunded on a rejection): the collector, or the operator for a sponsored mint. */
  requester?: string;
  /** Receives the token. */
  recipient?: string;
  /** The request's transaction. */
  txHash?: string;
  tokenId?: string;
  tokenURI?: string;
  /** `ar://` id of the image, once stored (before the mint too). */
  image?: string;
  /** Why the last attempt of a stage failed, or why the request was rejected. */
  error?: string;
};

/** Where a sponsored mint stands (`GET /v1/mints/:id`). */
export type MintStatus = {
  id: string;
  status: MintStatusName;
  collection: string;
  to: string;
  requestId?: string;
  /** The `requestMintFor` transaction. */
  txHash?: string;
  tokenId?: string;
  tokenURI?: string;
  image?: string;
  error?: string;
};

/** A collection whose requests can be looked up. */
export type StatusCollection = {
  chainId: number;
  address: string;
  /** The collection, for view calls. */
  contract: Contract;
  /** Its deployment block: where a search for a request that is not indexed starts. */
  startBlock: number;
  /** The `fulfill` queue of its chain. */
  fulfillQueue: Queue<ChainWriteJobData>;
};

export type StatusReaderParameters = {
  redis: Redis;
  /** The node's Redis key prefix. */
  prefix: string;
  collections: StatusCollection[];
  generateQueue: Queue<GenerateJobData>;
  /** The `mint-for` queue of each chain. */
  mintForQueues: Queue<MintForJobData, MintForResult>[];
  /** Largest `eth_getLogs` range. */
  maxBlockRange: number;
};

export type StatusReader = {
  /** The status of request `requestId` of `collection`; undefined when no such request exists. */
  request(collection: string, requestId: bigint): Promise<RequestStatus | undefined>;
  /** The status of sponsored mint `id`; undefined when there is none. */
  mint(id: string): Promise<MintStatus | undefined>;
};

const firstLine = (text?: string) => (text ? text.split('\n')[0] : undefined);
const drop = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

async function logsOf(contract: Contract, event: string, requestId: bigint, from: number, to: number, step: number): Promise<EventLog[]> {
  const out: EventLog[] = [];
  for (let start = from; start <= to; start += step) {
    out.push(...((await contract.queryFilter(contract.filters[event](requestId), start, Math.min(to, start + step - 1))) as EventLog[]));
  }
  return out;
}

/** The token's owner, or undefined while it does not exist (ownerOf reverts); RPC failures are thrown. */
async function ownerOf(contract: Contract, tokenId: bigint): Promise<string | undefined> {
  try {
    return (await contract.ownerOf(tokenId)) as string;
  } catch (error) {
    if ((error as { code?: string }).code === 'CALL_EXCEPTION') return undefined;
    throw error;
  }
}

/**
 * Reads the status of requests and sponsored mints from the chain (`ownerOf`, `tokenURI`, `isPending`,
 * `MintRejected`/`MintRefunded`) and, while a request is open, from its `generate` and `fulfill` jobs. Shared by
 * the status routes and their event streams.
 *
 * @example
 * const status = createStatusReader({ redis, prefix: 'aigc', collections: [{ chainId, address, contract, startBlock, fulfillQueue }], generateQueue, mintForQueues: [mintForQueue], maxBlockRange: 2000 });
 * const now = await status.request(address, 7n); // { requestId: '7', status: 'rendering', … }
 */
export function createStatusReader(p: StatusReaderParameters): StatusReader {
  const byAddress = new Map(p.collections.map((c) => [c.address.toLowerCase(), c]));

  /** The request's preimage: from the index, else from its `MintRequested` log (then indexed). */
  const findRequest = async (c: StatusCollection, requestId: bigint): Promise<MintRequestJson | undefined> => {
    const at = { redis: p.redis, prefix: p.prefix, chainId: c.chainId, collection: c.address };
    const indexed = await findIndexedRequest(at, requestId);
    if (indexed) return indexed;
    const [lastRequestId] = (await c.contract.requestCounts()) as [bigint];
    if (requestId < 1n || requestId > lastRequestId) return undefined;
    const latest = await c.contract.runner!.provider!.getBlockNumber();
    const [log] = await logsOf(c.contract, 'MintRequested', requestId, c.startBlock, latest, p.maxBlockRange);
    if (!log) return undefined;
    const request = requestToJson(parseMintRequested(log));
    await indexRequests(at, [request]);
    return request;
  };

  /** Status of a request still open on chain, from its jobs. */
  const openStatus = async (c: StatusCollection, request: MintRequestJson): Promise<Pick<RequestStatus, 'status' | 'image' | 'error'>> => {
    const jobId = requestJobId(c.chainId, c.address, request);
    const [gen, ful, imageId] = await Promise.all([
      p.generateQueue.getJob(jobId) as Promise<Job<GenerateJobData> | undefined>,
      c.fulfillQueue.getJob(jobId) as Promise<Job<ChainWriteJobData> | undefined>,
      p.redis.hget(`${p.prefix}:out:${jobId}`, 'imageId'),
    ]);
    const image = imageId ? `ar://${imageId}` : undefined;
    if (ful?.name === 'reject') return { status: 'rendering', image, error: (ful.data as RejectJobData).message };
    if (ful) return { status: 'rendered', image, error: firstLine(ful.failedReason) };
    if (!gen) return { status: 'requested' };
    const state = await gen.getState();
    if (state === 'completed') return { status: 'rendered', image };
    // Not started yet; a job waiting for its next attempt has started (it was rendering) and stays `rendering`.
    const notStarted = !gen.processedOn && (state === 'waiting' || state === 'prioritized' || state === 'waiting-children');
    return { status: notStarted ? 'requested' : 'rendering', image, error: firstLine(gen.failedReason) };
  };

  const request: StatusReader['request'] = async (collection, requestId) => {
    const c = byAddress.get(collection.toLowerCase());
    if (!c) return undefined;
    const found = await findRequest(c, requestId);
    if (!found) return undefined;
    const base = { requestId: requestId.toString(), collection: c.address, requester: found.requester, recipient: found.recipient, txHash: found.transactionHash };

    // Pending first: a request that stops being pending never becomes pending again, so a mint landing between
    // the two calls is seen as minted (asked the other way round, it would look like neither).
    if ((await c.contract.isPending(requestId, requestStruct(found))) as boolean) return drop<RequestStatus>({ ...base, ...(await openStatus(c, found)) });
    if (await ownerOf(c.contract, requestId)) {
      const jobId = requestJobId(c.chainId, c.address, found);
      const [tokenURI, imageId] = await Promise.all([c.contract.tokenURI(requestId) as Promise<string>, p.redis.hget(`${p.prefix}:out:${jobId}`, 'imageId')]);
      return drop<RequestStatus>({ ...base, status: 'minted', tokenId: requestId.toString(), tokenURI, image: imageId ? `ar://${imageId}` : undefined });
    }

    // Ended without a mint: rejected (refunded at once) or refunded after the deadline.
    const latest = await c.contract.runner!.provider!.getBlockNumber();
    const [rejected] = await logsOf(c.contract, 'MintRejected', requestId, found.blockNumber, latest, p.maxBlockRange);
    if (rejected) {
      const job = (await c.fulfillQueue.getJob(requestJobId(c.chainId, c.address, found))) as Job<RejectJobData> | undefined;
      const message = job?.name === 'reject' ? job.data.message : undefined;
      return drop<RequestStatus>({ ...base, status: 'rejected', error: message ?? `rejected with reason code ${rejected.args.reason}` });
    }
    const [refunded] = await logsOf(c.contract, 'MintRefunded', requestId, found.blockNumber, latest, p.maxBlockRange);
    if (refunded) return drop<RequestStatus>({ ...base, status: 'refunded' });
    // Not pending with the stored preimage and not ended: a reorg replaced it; the listener will see it again.
    return drop<RequestStatus>({ ...base, status: 'requested' });
  };

  const mint: StatusReader['mint'] = async (id) => {
    let job = await findMintJob(p.mintForQueues, id);
    if (!job) return undefined;
    const base = { id, collection: job.data.collection, to: job.data.to };
    const state = await job.getState();
    // The job may have ended between reading it and its state: read it again for its failure or result.
    if (state === 'failed' || state === 'completed') job = (await findMintJob(p.mintForQueues, id)) ?? job;
    if (state === 'failed') return { ...base, status: 'failed', error: firstLine(job.failedReason) ?? 'failed' };
    if (state !== 'completed' || !job.returnvalue) return { ...base, status: 'queued' };
    const { requestId, txHash } = job.returnvalue;
    const r = await request(job.data.collection, BigInt(requestId));
    return drop<MintStatus>({ ...base, status: r?.status ?? 'requested', requestId, txHash, tokenId: r?.tokenId, tokenURI: r?.tokenURI, image: r?.image, error: r?.error });
  };

  return { request, mint };
}

/** The sponsored mint `id`, from whichever chain's `mint-for` queue holds it. */
export async function findMintJob(queues: Queue<MintForJobData, MintForResult>[], id: string): Promise<Job<MintForJobData, MintForResult> | undefined> {
  for (const queue of queues) {
    const job = (await queue.getJob(id)) as Job<MintForJobData, MintForResult> | undefined;
    if (job) return job;
  }
  return undefined;
}
