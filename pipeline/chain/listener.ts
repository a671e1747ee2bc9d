import type { JsonRpcProvider } from 'ethers';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { collectionInterface } from './collection';
import { type MintRequest, parseMintRequested } from './request';

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

const MINT_REQUESTED = collectionInterface.getEvent('MintRequested')!.topicHash;

/**
 * Polls `eth_getLogs` for `MintRequested` from a cursor kept in Redis, in bounded ranges, `confirmations` deep.
 * At-least-once: the cursor moves after the batch is handed on, and consumers dedupe by request id.
 */
export function startListener(o: ListenerOptions): Listener {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const pollOnce = async (): Promise<number> => {
    const head = await o.provider.getBlockNumber();
    const safeHead = head - o.confirmations;
    const stored = await o.redis.get(o.cursorKey);
    let from = stored === null ? o.startBlock : Number(stored) + 1;
    let handed = 0;
    while (from <= safeHead && !stopped) {
      const to = Math.min(safeHead, from + o.maxBlockRange - 1);
      const logs = await o.provider.getLogs({ address: o.collection, topics: [MINT_REQUESTED], fromBlock: from, toBlock: to });
      const requests = logs.map(parseMintRequested);
      if (requests.length) await o.onRequests(requests);
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
