import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';

// KEYS[1] = lock key; ARGV[1] = holder id; ARGV[2] = ttl ms. Extends the lock only if we still hold it.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
// KEYS[1] = lock key; ARGV[1] = holder id. Releases the lock only if we hold it.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export type Leadership = {
  /** True while this process holds the lock. */
  readonly isLeader: boolean;
  stop(): Promise<void>;
};

/**
 * A Redis lock (SET NX PX, renewed at a third of its TTL) that elects one process per key. Used so one node per
 * collection listens and one writer per signer key sends transactions, while any number run workers.
 * `onElected` runs when this process becomes leader, `onDeposed` when it loses the lock (e.g. Redis was wiped and
 * another node took it).
 */
export function startLeadership({ redis, key, ttlMs, onElected, onDeposed, logger }: {
  redis: Redis;
  logger: Logger;
  key: string;
  ttlMs: number;
  onElected(): Promise<void> | void;
  onDeposed(): Promise<void> | void;
}): Leadership {
  const id = randomUUID();
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    try {
      if (leader) {
        if ((await redis.eval(RENEW, 1, key, id, ttlMs)) === 1) return;
        leader = false;
        await onDeposed();
      }
      // A wiped Redis also lands here: whoever sets the key first leads.
      if ((await redis.set(key, id, 'PX', ttlMs, 'NX')) === 'OK') {
        leader = true;
        try {
          await onElected();
        } catch (error) {
          // Step down and let the next tick (here or on another node) try again.
          logger.error({ err: errorMessage(error) }, 'leader start-up failed; stepping down');
          leader = false;
          await Promise.resolve(onDeposed()).catch(() => undefined);
          await redis.eval(RELEASE, 1, key, id).catch(() => undefined);
        }
      }
    } catch (error) {
      // Redis unreachable: keep the current role; the lock expires on its own if we cannot renew it.
      logger.warn({ err: errorMessage(error) }, 'leader lock check failed');
    }
  };
  const loop = () => {
    if (stopped) return;
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, Math.max(50, Math.floor(ttlMs / 3)));
    });
  };
  loop();

  return {
    get isLeader() {
      return leader;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      if (leader) {
        leader = false;
        await onDeposed();
        await redis.eval(RELEASE, 1, key, id).catch(() => undefined);
      }
    },
  };
}
