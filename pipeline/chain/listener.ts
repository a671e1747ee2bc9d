import { type JsonRpcProvider, toQuantity } from 'ethers';
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

export type Listener = {
  stop(): Promise<void>;
  /** Runs one poll now (tests, shutdown). */
  pollOnce(): Promise<number>;
  /** Polls as soon as the current poll (if any) ends, instead of at the next tick: a new block arrived. */
  wake(): void;
};

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
  let running: Promise<unknown> | undefined;

  const hashesKey = `${o.cursorKey}:hashes`;

  /** The chain's hash of block `height`; undefined when there is no such block (yet, or any more). */
  const hashAt = async (height: number) =>
    ((await o.provider.send('eth_getBlockByNumber', [toQuantity(height), false])) as { hash?: string } | null)?.hash;

  let rounds = 0;
  /** Forgets heights older than REMEMBERED_BLOCKS below `height`; runs every 64th round (the map is small). */
  const trim = async (height: number) => {
    if (rounds++ % 64) return;
    const stale = Object.keys(await o.redis.hgetall(hashesKey)).filter((h) => Number(h) < height - REMEMBERED_BLOCKS);
    if (stale.length) await o.redis.hdel(hashesKey, ...stale);
  };

  /** Remembers the chain's hash of block `height` and, with `advance`, moves the cursor there in the same step. */
  const remember = async (height: number, { advance = false } = {}) => {
    const hash = await hashAt(height);
    const step = o.redis.multi();
    if (hash) step.hset(hashesKey, String(height), hash);
    if (advance) step.set(o.cursorKey, String(height));
    await step.exec();
  };

  /**
   * Reorg check: the hash remembered for the cursor block must still be the chain's. If not, walk back through the
   * remembered heights to the newest one that still matches and resume from there, so the replaced blocks are
   * read again. Returns the block to read from.
   */
  const resumeFrom = async (cursor: number, safeHead: number): Promise<number> => {
    // The usual case, in two round trips: the cursor block is still the one read.
    const [known, current] = await Promise.all([o.redis.hget(hashesKey, String(cursor)), hashAt(cursor)]);
    if (known && known === current) return cursor + 1;
    const remembered = await o.redis.hgetall(hashesKey);
    const heights = Object.keys(remembered)
      .map(Number)
      .filter((h) => h <= cursor)
      .sort((a, b) => b - a);
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
      if ((await hashAt(height)) === remembered[height]) {
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
    const [head, stored] = await Promise.all([o.provider.getBlockNumber(), o.redis.get(o.cursorKey)]);
    const safeHead = head - o.confirmations;
    let from = stored === null ? o.startBlock : await resumeFrom(Number(stored), safeHead);
    let handed = 0;
    while (from <= safeHead && !stopped) {
      const to = Math.min(safeHead, from + o.maxBlockRange - 1);
      const logs = await getLogs(o.provider, { address: o.collection, topic: MINT_REQUESTED_TOPIC, fromBlock: from, toBlock: to });
      const requests = logs.flatMap((log) => {
        try {
          return [parseMintRequested(log)];
        } catch (error) {
          // Not our contract's shape (it cannot emit one): skipping it is all the node can do, and stalling the
          // listener on it would stop every later request. Loud, so an operator sees a collection is not ours.
          o.logger.error(
            { tx: log.transactionHash, logIndex: log.index, err: errorMessage(error) },
            'MintRequested log that does not decode: skipped',
          );
          return [];
        }
      });
      if (requests.length) await o.onRequests(requests);
      await remember(to, { advance: true });
      await trim(to);
      handed += requests.length;
      from = to + 1;
    }
    return handed;
  };

  let woken = false;
  const loop = async () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = undefined;
    woken = false;
    running = pollOnce().catch((error) => o.logger.warn({ err: errorMessage(error) }, 'listener poll failed; will retry'));
    await running;
    running = undefined;
    // A block that arrived during the poll may not have been seen: poll again at once.
    if (!stopped) timer = setTimeout(() => void loop(), woken ? 0 : o.pollIntervalMs);
  };
  void loop();

  return {
    pollOnce,
    wake() {
      if (running) woken = true;
      else if (!stopped) void loop();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
