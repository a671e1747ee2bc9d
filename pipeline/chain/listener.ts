import type { JsonRpcProvider } from 'ethers';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { getLogs } from './raw-rpc';
import { MINT_REQUESTED_TOPIC, type MintRequest, parseMintRequested } from './request';

export type ListenerOptions = {
  provider: JsonRpcProvider;
  redis: Redis;
  /** Redis key holding the last block fully processed. */
  cursorKey: string;
  collection: string;
  /** Blocks a log must be buried under before it is handed on. @defaultValue 0 */
  confirmations: number;
  pollIntervalMs: number;
  maxBlockRange: number;
  /** Where to start when no cursor is stored (the deployment block). */
  startBlock: number;
  /** Receives each batch of requests; the cursor advances only after it resolves. */
  onRequests(requests: MintRequest[]): Promise<void>;
  logger: Logger;
};

export type Listener = { stop(): Promise<void>; /** Runs one poll now (tests, shutdown). */ pollOnce(): Promise<number> };

/** How many recent heights keep their hash for reorg detection. */
const REMEMBERED_BLOCKS = 128;

/**
 * Polls `eth_getLogs` for `MintRequested` from a cursor kept in Redis, in bounded ranges, `confirmations` deep.
 * At-least-once: the cursor moves after the batch is handed on, and consumers dedupe by job id. The hashes of
 * recently read blocks are remembered; when one changes (a reorg), the cursor rolls back and the blocks are re-read.
 */
export function startListener(o: ListenerOptions): Listener {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const hashesKey = `${o.cursorKey}:hashes`;

  const remember = async (height: number) => {
    const block = await o.provider.getBlock(height);
    if (!block?.hash) return;
    await o.redis.hset(hashesKey, String(height), block.hash);
    const heights = Object.keys(await o.redis.hgetall(hashesKey)).map(Number);
    const stale = heights.filter((h) => h < height - REMEMBERED_BLOCKS);
    if (stale.length) await o.redis.hdel(hashesKey, ...stale.map(String));
  };

  /**
   * Reorg check: the hash remembered for the cursor block must still be the chain's. If not, walk back through the
   * remembered heights to the newest one that still matches and resume from there, so the replaced blocks are
   * read again. Returns the block to read from.
   */
  const resumeFrom = async (cursor: number, safeHead: number): Promise<number> => {
    const remembered = await o.redis.hgetall(hashesKey);
    const heights = Object.keys(remembered).map(Number).filter((h) => h <= cursor).sort((a, b) => b - a);
    if (!heights.length) {
      // A cursor set without a remembered hash (just reconciled): anchor it, or pull it back if the chain is shorter.
      if (cursor > safeHead) {
        await o.redis.set(o.cursorKey, String(safeHead));
        return safeHead + 1;
      }
      await remember(cursor);
      return cursor + 1;
    }
    for (const height of heights) {
      const block = await o.provider.getBlock(height);
      if (block?.hash === remembered[height]) {
        if (height !== cursor) {
          o.logger.warn({ from: cursor, to: height }, 'chain reorganised: re-reading replaced blocks');
          await o.redis.set(o.cursorKey, String(height));
        }
        return height + 1;
      }
    }
    const fallback = Math.max(o.startBlock, heights[heights.length - 1] - 1);
    o.logger.warn({ from: cursor, to: fallback }, 'chain reorganised deeper than remembered blocks: re-reading');
    await o.redis.set(o.cursorKey, String(fallback));
    return fallback + 1;
  };

  const pollOnce = async (): Promise<number> => {
    const head = await o.provider.getBlockNumber();
    const safeHead = head - o.confirmations;
    const stored = await o.redis.get(o.cursorKey);
    let from = stored === null ? o.startBlock : await resumeFrom(Number(stored), safeHead);
    let handed = 0;
    while (from <= safeHead && !stopped) {
      const to = Math.min(safeHead, from + o.maxBlockRange - 1);
      const logs = await getLogs(o.provider, { address: o.collection, topic: MINT_REQUESTED_TOPIC, fromBlock: from, toBlock: to });
      const requests = logs.map(parseMintRequested);
      if (requests.length) await o.onRequests(requests);
      await remember(to);
      await o.redis.set(o.cursorKey, String(to));
      handed += requests.length;
      from = to + 1;
    }
    return handed;
  };

  const loop = async () => {
    if (stopped) return;
    running = pollOnce().catch((error) => o.logger.warn({ err: errorMessage(error) }, 'listener poll failed; will retry'));
    await running;
    if (!stopped) timer = setTimeout(() => void loop(), o.pollIntervalMs);
  };
  void loop();

  return {
    pollOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
