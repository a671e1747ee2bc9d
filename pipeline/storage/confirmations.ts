import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { type ArweaveStore, ArweaveRefusedError, type SignedHeader, type UploadJournal } from './arweave';

export type ConfirmationWatcherOptions = {
  redis: Redis;
  /** Redis key of this node's pending uploads (a sorted set by upload time; headers in `<key>:headers`). */
  key: string;
  /** Directory keeping each pending upload's bytes until it is confirmed (a re-post needs them). */
  spoolDir: string;
  /** Depth at which an upload counts as confirmed and its bytes are let go. */
  confirmations: number;
  /** Time between checks. */
  pollMs: number;
  /** An upload the gateway still does not know after this long was dropped, and is posted again. */
  dropAfterMs: number;
  logger: Logger;
  /** Called after each check with its counts (metrics). */
  onCheck?(counts: CheckCounts): void;
};

export type CheckCounts = { pending: number; confirmed: number; reposted: number; lost: number };

/** The store's journal (pass it to `createArweaveStore`) plus the checks. */
export type ConfirmationWatcher = UploadJournal & {
  /** One pass over the pending uploads, asking `store`'s gateway. */
  checkOnce(store: Checker): Promise<CheckCounts>;
  start(store: Checker): void;
  stop(): Promise<void>;
};

type Checker = Pick<ArweaveStore, 'status' | 'repost'>;

/** Uploads checked per pass; the rest wait for the next one. */
const PER_PASS = 200;

/**
 * Follows every Arweave upload of this node until it is `confirmations` blocks deep. A token's URI is fixed on
 * chain at mint, so a transaction the network dropped (expired anchor, evicted from the mempool) must come back
 * with the same id: its signed header is kept in Redis and its bytes on local disk until it is confirmed, and it is
 * posted again if the gateway still does not know it after `dropAfterMs`.
 *
 * @example
 * const watcher = createConfirmationWatcher({ redis, key: 'aigc:arweave:pending:node-1', spoolDir, confirmations: 10, pollMs: 60_000, dropAfterMs: 1_800_000, logger });
 * const store = await createArweaveStore({ url, jwk, journal: watcher });
 * watcher.start(store);
 */
export function createConfirmationWatcher(o: ConfirmationWatcherOptions): ConfirmationWatcher {
  const headersKey = `${o.key}:headers`;
  const spoolOf = (id: string) => path.join(o.spoolDir, `${id}.bin`);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let spool: Promise<unknown> | undefined;

  const forget = async (id: string) => {
    await o.redis.multi().zrem(o.key, id).hdel(headersKey, id).exec();
    await fs.promises.rm(spoolOf(id), { force: true });
  };

  const checkOnce = async (store: Checker): Promise<CheckCounts> => {
    const counts: CheckCounts = { pending: 0, confirmed: 0, reposted: 0, lost: 0 };
    const entries = await o.redis.zrange(o.key, 0, PER_PASS - 1, 'WITHSCORES');
    for (let i = 0; i < entries.length; i += 2) {
      const [id, since] = [entries[i], Number(entries[i + 1])];
      const status = await store.status(id);
      if (status.state === 'confirmed' && status.confirmations >= o.confirmations) {
        await forget(id);
        counts.confirmed++;
        continue;
      }
      counts.pending++;
      if (status.state !== 'not-found' || Date.now() - since < o.dropAfterMs) continue;
      const [header, data] = await Promise.all([o.redis.hget(headersKey, id), fs.promises.readFile(spoolOf(id)).catch(() => undefined)]);
      if (!header || !data) {
        counts.lost++;
        o.logger.error({ arweaveTx: id }, 'an Arweave upload was dropped and its bytes are gone; re-upload it by hand');
        continue;
      }
      try {
        await store.repost(JSON.parse(header) as SignedHeader, data);
      } catch (error) {
        if (!(error instanceof ArweaveRefusedError)) throw error; // unreachable: the whole pass is tried again
        // Refused (e.g. its anchor is older than the gateway accepts): posting it again cannot help. An upload
        // still in progress is signed again by its owner, which forgets this one; one that was accepted, then
        // dropped, and whose id is already in use cannot come back under that id.
        await o.redis.zadd(o.key, Date.now(), id);
        counts.lost++;
        o.logger.error(
          { arweaveTx: id, err: error.details },
          'a dropped Arweave upload was refused when posted again; re-upload it by hand if it is still listed',
        );
        continue;
      }
      await o.redis.zadd(o.key, Date.now(), id); // wait another dropAfterMs before trying again
      counts.reposted++;
      o.logger.warn({ arweaveTx: id }, 'Arweave upload was dropped by the network; posted it again');
    }
    o.onCheck?.(counts);
    return counts;
  };

  const loop = (store: Checker) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = checkOnce(store)
        .catch((error) => o.logger.warn({ err: errorMessage(error) }, 'Arweave confirmation check failed'))
        .finally(() => loop(store));
    }, o.pollMs);
  };

  return {
    async header(id) {
      const json = await o.redis.hget(headersKey, id);
      return json ? (JSON.parse(json) as SignedHeader) : undefined;
    },
    forget,
    async record(header, data, { link, replaces } = {}) {
      // Made once; a failure is not remembered, so the next upload tries again.
      spool ??= fs.promises.mkdir(o.spoolDir, { recursive: true }).catch((error: unknown) => {
        spool = undefined;
        throw error;
      });
      await spool;
      // Bytes and header at once: nothing reads the bytes before the transaction counts as dropped (dropAfterMs).
      // The caller's record of the id (`link`) and the replaced transaction's entry change in the same step, so a
      // crash leaves either the old transaction everywhere or the new one: never a signed transaction that this
      // journal would post later while the caller knows another.
      // NX: a resumed upload keeps its first time, so a transaction that never arrives is still found as dropped.
      const step = o.redis.multi().zadd(o.key, 'NX', Date.now(), header.id).hset(headersKey, header.id, JSON.stringify(header));
      if (link) step.hset(link.key, link.field, header.id);
      if (replaces && replaces !== header.id) step.zrem(o.key, replaces).hdel(headersKey, replaces);
      await Promise.all([fs.promises.writeFile(spoolOf(header.id), data, { mode: 0o600 }), step.exec()]);
      if (replaces && replaces !== header.id) await fs.promises.rm(spoolOf(replaces), { force: true });
    },
    checkOnce,
    start(store) {
      stopped = false;
      loop(store);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
