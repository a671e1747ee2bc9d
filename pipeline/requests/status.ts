import type { Job, Queue } from 'bullmq';
import type { Contract, EventLog } from 'ethers';
import type { Redis } from 'ioredis';
import { isPending } from '../chain/pending-reads';
import { type MintRequestJson, parseMintRequested, requestToJson } from '../chain/request';
import type { ChainWriteJobData, GenerateJobData } from '../queue/jobs';
import { requestJobId } from '../queue/jobs';
import { findIndexedRequest, indexRequests } from './request-index';
import { collectionReads } from '../chain/typed-reads';

/** The stages an on-chain request goes through, in order; the last three are final. */
export const REQUEST_STATUSES = ['requested', 'rendering', 'rendered', 'minted', 'rejected', 'refunded'] as const;
export type RequestStatusName = (typeof REQUEST_STATUSES)[number];

/** Where an on-chain request stands (`GET /v1/requests/:requestId`), wallet-made or sponsored. */
export type RequestStatus = {
  requestId: string;
  collection: string;
  status: RequestStatusName;
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

export type RequestStatusReaderParameters = {
  redis: Redis;
  /** The node's Redis key prefix. */
  prefix: string;
  collections: StatusCollection[];
  generateQueue: Queue<GenerateJobData>;
  /** Largest `eth_getLogs` range. */
  maxBlockRange: number;
};

export type RequestStatusReader = {
  /** The status of request `requestId` of `collection`; undefined when no such request exists. */
  request(collection: string, requestId: bigint): Promise<RequestStatus | undefined>;
};

/** The first line of a job's failure (its stack trace stays in the logs). */
export const firstLine = (text?: string) => (text ? text.split('\n')[0] : undefined);
/** The object without its undefined fields (absent from the JSON answer rather than `null`). */
export const dropUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

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
    return await collectionReads(contract).ownerOf(tokenId);
  } catch (error) {
    if ((error as { code?: string }).code === 'CALL_EXCEPTION') return undefined;
    throw error;
  }
}

/**
 * Reads the status of any on-chain request, wallet-made or sponsored, from the chain (`ownerOf`, `tokenURI`,
 * `isPending`, `MintRejected`/`MintRefunded`) and, while it is open, from its `generate` and `fulfill` jobs. Shared
 * by `GET /v1/requests/:requestId`, its event stream and the status of a sponsored mint once its request is sent.
 *
 * @example
 * const requests = createRequestStatusReader({ redis, prefix: 'aigc', collections: [{ chainId, address, contract, startBlock, fulfillQueue }], generateQueue, maxBlockRange: 2000 });
 * const now = await requests.request(address, 7n); // { requestId: '7', status: 'rendering', … }
 */
export function createRequestStatusReader(p: RequestStatusReaderParameters): RequestStatusReader {
  const byAddress = new Map(p.collections.map((c) => [c.address.toLowerCase(), c]));

  /** The request's preimage: from the index, else from its `MintRequested` log (then indexed). */
  const findRequest = async (c: StatusCollection, requestId: bigint): Promise<MintRequestJson | undefined> => {
    const at = { redis: p.redis, prefix: p.prefix, chainId: c.chainId, collection: c.address };
    const indexed = await findIndexedRequest(at, requestId);
    if (indexed) return indexed;
    const [lastRequestId] = await collectionReads(c.contract).requestCounts();
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
    if (ful?.data.kind === 'reject') return { status: 'rendering', image, error: ful.data.message };
    if (ful) return { status: 'rendered', image, error: firstLine(ful.failedReason) };
    if (!gen) return { status: 'requested' };
    const state = await gen.getState();
    if (state === 'completed') return { status: 'rendered', image };
    // Not started yet; a job waiting for its next attempt has started (it was rendering) and stays `rendering`.
    const notStarted = !gen.processedOn && (state === 'waiting' || state === 'prioritized' || state === 'waiting-children');
    return { status: notStarted ? 'requested' : 'rendering', image, error: firstLine(gen.failedReason) };
  };

  const request: RequestStatusReader['request'] = async (collection, requestId) => {
    const c = byAddress.get(collection.toLowerCase());
    if (!c) return undefined;
    const found = await findRequest(c, requestId);
    if (!found) return undefined;
    const base = {
      requestId: requestId.toString(),
      collection: c.address,
      requester: found.requester,
      recipient: found.recipient,
      txHash: found.transactionHash,
    };

    // Pending first: a request that stops being pending never becomes pending again, so a mint landing between
    // the two calls is seen as minted (asked the other way round, it would look like neither).
    if (await isPending(c.contract, found)) return dropUndefined<RequestStatus>({ ...base, ...(await openStatus(c, found)) });
    if (await ownerOf(c.contract, requestId)) {
      const jobId = requestJobId(c.chainId, c.address, found);
      const [tokenURI, imageId] = await Promise.all([
        collectionReads(c.contract).tokenURI(requestId),
        p.redis.hget(`${p.prefix}:out:${jobId}`, 'imageId'),
      ]);
      return dropUndefined<RequestStatus>({
        ...base,
        status: 'minted',
        tokenId: requestId.toString(),
        tokenURI,
        image: imageId ? `ar://${imageId}` : undefined,
      });
    }

    // Ended without a mint: rejected (refunded at once) or refunded after the deadline.
    const latest = await c.contract.runner!.provider!.getBlockNumber();
    const [rejected] = await logsOf(c.contract, 'MintRejected', requestId, found.blockNumber, latest, p.maxBlockRange);
    if (rejected) {
      const job = await c.fulfillQueue.getJob(requestJobId(c.chainId, c.address, found));
      const message = job?.data.kind === 'reject' ? job.data.message : undefined;
      return dropUndefined<RequestStatus>({
        ...base,
        status: 'rejected',
        error: message ?? `rejected with reason code ${rejected.args.reason}`,
      });
    }
    const [refunded] = await logsOf(c.contract, 'MintRefunded', requestId, found.blockNumber, latest, p.maxBlockRange);
    if (refunded) return dropUndefined<RequestStatus>({ ...base, status: 'refunded' });
    // Not pending with the stored preimage and not ended: a reorg replaced it; the listener will see it again.
    return dropUndefined<RequestStatus>({ ...base, status: 'requested' });
  };

  return { request };
}
