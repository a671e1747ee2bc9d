import type { JsonRpcProvider } from 'ethers';
import type { Redis } from 'ioredis';
import { AigcError } from '../errors';
import { collectionInterface } from './collection';
import { eventDecoder } from './event-decoder';
import { createPacer, type Pacer } from './pace';
import { getLogs } from './raw-rpc';
import { MINT_REQUESTED_TOPIC, type MintRequest, parseMintRequested } from './request';

/**
 * Depth below which an ending (fulfil, reject, refund) is taken as final. A shallower one may still be undone by a
 * reorg, so its request keeps the low-water mark and is read again. Matches the heights the listener remembers for
 * its own reorg check.
 */
export const REORG_DEPTH = 128;

// Only `requestId` of the ending events is read: their other fields are changing.
const endings = ['MintFulfilled', 'MintRejected', 'MintRefunded'].map((name) => eventDecoder(collectionInterface, name));
/** topic0 of the four events a reconcile reads, asked for in one `eth_getLogs` per range. */
const TOPICS = [MINT_REQUESTED_TOPIC, ...endings.map((e) => e.topic)];

const endedRequestId = (log: { topics: readonly string[]; data: string }): bigint | undefined => {
  for (const e of endings) {
    const args = e.decode(log);
    if (args) return args.requestId as bigint;
  }
  return undefined;
};

export type FindOpenRequestsParameters = {
  provider: JsonRpcProvider;
  /** The collection contract. */
  address: string;
  /** First block read: the low-water mark, or the deployment block when there is none. */
  fromBlock: number;
  /** Last block whose requests count (the confirmed head). */
  safeHead: number;
  /** Last block read; endings count up to here. */
  latestBlock: number;
  /** Last block whose endings are taken as final (see `REORG_DEPTH`); at most `safeHead`. */
  settledBlock: number;
  /** Largest block range of one `eth_getLogs`. */
  maxBlockRange: number;
  /** Spaces the `eth_getLogs` calls; none = as fast as the provider answers. */
  pace?: Pacer;
};

export type OpenRequestScan = {
  /** Requests up to `safeHead` that no ending up to `latestBlock` closes, in chain order. */
  open: MintRequest[];
  /**
   * The new low-water mark: the oldest block that may still hold an open request, i.e. the block of the oldest
   * request that is open or whose ending is not settled yet, else `settledBlock + 1`; never below `fromBlock`.
   */
  mark: number;
  /** `eth_getLogs` calls made. */
  calls: number;
};

/**
 * Every request that is still open on chain (requested, not fulfilled, rejected or refunded) from `fromBlock` on,
 * and how far a later scan may skip. The four events are read together, one `eth_getLogs` per range; an ending
 * always comes after its request, so reading endings from the same block is enough.
 *
 * @example
 * const { open, mark } = await findOpenRequests({ provider, address, fromBlock: 100, safeHead: head, latestBlock: head, settledBlock: head - 128, maxBlockRange: 2000 });
 */
export async function findOpenRequests(p: FindOpenRequestsParameters): Promise<OpenRequestScan> {
  const requested: MintRequest[] = [];
  const endedAt = new Map<bigint, number>();
  let calls = 0;
  for (let start = p.fromBlock; start <= p.latestBlock; start += p.maxBlockRange) {
    const end = Math.min(p.latestBlock, start + p.maxBlockRange - 1);
    await p.pace?.wait();
    calls++;
    let logs;
    try {
      logs = await getLogs(p.provider, { address: p.address, topic: TOPICS, fromBlock: start, toBlock: end });
    } catch (cause) {
      throw new AigcError('CHAIN_FAILED', `eth_getLogs of blocks ${start}-${end} failed while reconciling ${p.address}`, {
        cause,
        retryable: true,
      });
    }
    for (const log of logs) {
      if (log.topics[0] === MINT_REQUESTED_TOPIC) {
        if (log.blockNumber <= p.safeHead) requested.push(parseMintRequested(log));
      } else {
        const id = endedRequestId(log);
        if (id !== undefined) endedAt.set(id, log.blockNumber);
      }
    }
  }
  const open = requested.filter((r) => !endedAt.has(r.requestId));
  // Requests come in chain order, so the first one still unsettled is the oldest.
  const held = requested.find((r) => (endedAt.get(r.requestId) ?? Infinity) > p.settledBlock);
  const mark = Math.max(p.fromBlock, Math.min(held?.blockNumber ?? Infinity, p.settledBlock + 1));
  return { open, mark, calls };
}

export type ReconcileParameters = {
  provider: JsonRpcProvider;
  redis: Redis;
  /** Redis key of the collection's low-water mark (the oldest block that may still hold an open request). */
  markKey: string;
  address: string;
  /** The deployment block: where a scan starts when there is no mark. */
  startBlock: number;
  /** Blocks a request must be buried under before it counts. */
  confirmations: number;
  maxBlockRange: number;
  /** Most `eth_getLogs` calls a second (0 = no limit). */
  maxLogsPerSecond: number;
};

export type ReconcileResult = {
  open: MintRequest[];
  /** First block read: the stored mark, or `startBlock` for a full scan. */
  fromBlock: number;
  /** The mark stored after this reconcile (moves only forward). */
  mark: number;
  latestBlock: number;
  safeHead: number;
  /** No mark was stored (first start, wiped Redis): the whole history was read. */
  fullScan: boolean;
  /** JSON-RPC calls made: one `eth_blockNumber` and the `eth_getLogs` calls. */
  rpcCalls: number;
};

/** Sets the mark to ARGV[1] unless it is already there or further on; returns the mark now stored. */
const ADVANCE_MARK = `
local current = tonumber(redis.call('GET', KEYS[1]))
local proposed = tonumber(ARGV[1])
if current and current >= proposed then return current end
redis.call('SET', KEYS[1], ARGV[1])
return proposed`;

const storedMark = (value: string | null): number | undefined => (value !== null && /^\d+$/.test(value) ? Number(value) : undefined);

/**
 * Finds a collection's open requests from its low-water mark in Redis, then moves the mark forward to the oldest
 * block that can still hold one. Without a mark (first start, wiped Redis) it reads the whole history from
 * `startBlock`, paced at `maxLogsPerSecond`, so a provider that rate-limits `eth_getLogs` is not hammered.
 *
 * Safety: a block below the mark holds no open request. The mark never passes the block of a request that is open,
 * or whose ending is less than `max(confirmations, REORG_DEPTH)` deep (a reorg may still undo it), nor
 * `latest - max(confirmations, REORG_DEPTH) + 1`, so requests not counted yet (above the confirmed head) and blocks
 * a reorg may replace are read again next time. It only moves forward.
 *
 * @example
 * const { open, rpcCalls } = await reconcileFromMark({ provider, redis, markKey: 'aigc:reconcile:1:0xabc…', address, startBlock: 100, confirmations: 2, maxBlockRange: 2000, maxLogsPerSecond: 10 });
 */
export async function reconcileFromMark(p: ReconcileParameters): Promise<ReconcileResult> {
  const [stored, latestBlock] = await Promise.all([p.redis.get(p.markKey), p.provider.getBlockNumber()]);
  const mark = storedMark(stored);
  const fromBlock = Math.max(p.startBlock, mark ?? p.startBlock);
  const safeHead = latestBlock - p.confirmations;
  const settledBlock = latestBlock - Math.max(p.confirmations, REORG_DEPTH);
  const scan = await findOpenRequests({
    provider: p.provider,
    address: p.address,
    fromBlock,
    safeHead,
    latestBlock,
    settledBlock,
    maxBlockRange: p.maxBlockRange,
    pace: createPacer(p.maxLogsPerSecond),
  });
  const now = Number(await p.redis.eval(ADVANCE_MARK, 1, p.markKey, String(scan.mark)));
  return { open: scan.open, fromBlock, mark: now, latestBlock, safeHead, fullScan: mark === undefined, rpcCalls: scan.calls + 1 };
}
