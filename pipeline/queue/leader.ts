import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AigcError, errorMessage } from '../errors';

// The lock's value is `<holder>:<epoch>`: the holder is this process, the epoch a counter that only grows, so every
// term has a token no earlier or later term shares.
// KEYS[1] = lock, KEYS[2] = epoch counter; ARGV[1] = holder id, ARGV[2] = ttl ms. Takes a free lock (or one this
// holder left behind) under a new epoch; returns the epoch, or 0 while another holder has it.
const ACQUIRE = `local held = redis.call('get', KEYS[1])
if held and string.sub(held, 1, #ARGV[1] + 1) ~= ARGV[1] .. ':' then return 0 end
local epoch = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. ':' .. epoch, 'PX', ARGV[2])
return epoch`;
// KEYS[1] = lock; ARGV[1] = token; ARGV[2] = ttl ms. Extends the lock only if it still holds our token.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
// KEYS[1] = lock; ARGV[1] = token. 1 while the lock holds our token.
const CHECK = `if redis.call('get', KEYS[1]) == ARGV[1] then return 1 else return 0 end`;
// KEYS[1] = lock; ARGV[1] = token. Releases the lock only if it holds our token.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Monotonic milliseconds: wall-clock steps must not lengthen a lease. */
const now = () => performance.now();

/** One term of leadership. Work started under a lease may only reach the chain while that same lease holds. */
export type Lease = {
  /** This process's id in the lock. */
  readonly holder: string;
  /** The fencing number of this term (Redis INCR when elected): a later term always has a larger one. */
  readonly epoch: number;
  /** Monotonic time (`performance.now()`) until which this process may act on the lease without renewing it. */
  readonly validUntil: number;
  /** True while this is the current lease and its local expiry has not passed. */
  readonly valid: boolean;
  /** Throws `NOT_LEADER` unless `valid`; no I/O, for the moment right before a broadcast. */
  assertValid(): void;
  /**
   * Confirms in one Redis round trip (atomically, by script) that the lock still holds this lease's token, within
   * the time the lease has left. Throws `NOT_LEADER` when it does not, or when that cannot be confirmed in time.
   */
  verify(): Promise<void>;
};

export type Leadership = {
  /** True while this process holds a valid lease. */
  readonly isLeader: boolean;
  /** The current lease, while leader. */
  readonly lease: Lease | undefined;
  /** Resigns (runs `onDeposed` while the lease still holds) and releases the lock. */
  stop(): Promise<void>;
};

export type LeadershipOptions = {
  /** Leadership opens its own connection from this one, so renewals never queue behind other commands. */
  redis: Redis;
  logger: Logger;
  key: string;
  /** Lifetime of the lock in Redis; it is renewed every third of it. */
  ttlMs: number;
  /**
   * Taken off the local lease expiry, for clock drift between this host and Redis and the time from a fence check
   * to the broadcast. @defaultValue a tenth of `ttlMs`, at least 50 ms
   */
  marginMs?: number;
  onElected(): Promise<void> | void;
  onDeposed(): Promise<void> | void;
};

const notLeader = (why: string) => new AigcError('NOT_LEADER', `not the leader: ${why}`, { retryable: true });

/** Rejects with `onTimeout()` if `promise` has not settled within `ms`. */
function within<T>(ms: number, promise: Promise<T>, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The current lease of `leadership`, for a transaction sender's fence: throws `NOT_LEADER` when there is none.
 *
 * @example
 * const sender = createTxSender({ wallet, provider, logger, fence: () => currentLease(leadership) });
 */
export function currentLease(leadership: Leadership | undefined): Lease {
  const lease = leadership?.lease;
  if (!lease?.valid) throw notLeader('this process holds no lease');
  return lease;
}

/**
 * Elects one process per key with a Redis lease, so one node per chain and signer key listens and sends
 * transactions while any number run workers.
 *
 * - Renewal runs on its own timer (every third of `ttlMs`), whatever `onElected` or `onDeposed` are doing.
 * - The lease is valid locally until (time the winning SET or renewal was sent) + `ttlMs` − `marginMs`: before Redis
 *   can let another process take the lock. A lease not renewed by then ends here, with `onDeposed`, even if Redis
 *   cannot be reached.
 * - Each term has a fencing epoch; a sender holding a `Lease` checks it (`assertValid`, `verify`) before each
 *   broadcast, so work started under an ended term never reaches the chain.
 *
 * `onElected` and `onDeposed` run one at a time, in order; a term that ends while `onElected` runs is followed by
 * `onDeposed` once it returns. An `onElected` that throws ends the term.
 *
 * @example
 * const leadership = startLeadership({ redis, key: 'aigc:leader:1:0xabc', ttlMs: 10_000, logger, onElected, onDeposed });
 * const lease = leadership.lease; // undefined unless leader
 */
export function startLeadership(o: LeadershipOptions): Leadership {
  const { key, ttlMs, logger } = o;
  const marginMs = o.marginMs ?? Math.max(50, Math.floor(ttlMs / 10));
  if (!(marginMs >= 0 && marginMs < ttlMs / 2))
    throw new AigcError('CONFIG_INVALID', `lease margin ${marginMs} ms must be under half the ttl (${ttlMs} ms)`);
  const everyMs = Math.max(50, Math.floor(ttlMs / 3));
  const holder = randomUUID();
  // Commands fail at once while disconnected and are never re-sent later: a renewal that arrives late would extend
  // a lock this process already gave up locally.
  const conn = o.redis.duplicate({ enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 });
  conn.on('error', () => undefined); // reported through the failed commands

  let current: LeaseImpl | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let beating = false;
  /** Whether `onElected` ran and `onDeposed` has not yet. */
  let acting = false;
  let transitions: Promise<void> = Promise.resolve();
  const transition = (step: () => Promise<void>) => {
    transitions = transitions.then(step).catch((error) => logger.error({ err: errorMessage(error) }, 'leader transition failed'));
    return transitions;
  };

  class LeaseImpl implements Lease {
    readonly token: string;
    private ended = false;
    constructor(
      readonly holder: string,
      readonly epoch: number,
      public validUntil: number,
    ) {
      this.token = `${holder}:${epoch}`;
    }
    get valid() {
      return !this.ended && current === this && now() < this.validUntil;
    }
    end() {
      this.ended = true;
    }
    assertValid() {
      if (!this.valid) throw notLeader(`lease of epoch ${this.epoch} ended`);
    }
    async verify() {
      this.assertValid();
      const held = await within(this.validUntil - now(), conn.eval(CHECK, 1, key, this.token), () =>
        notLeader(`lease of epoch ${this.epoch} could not be confirmed in time`),
      ).catch((error) => {
        throw error instanceof AigcError ? error : notLeader(`lease of epoch ${this.epoch} could not be confirmed: ${errorMessage(error)}`);
      });
      if (held !== 1) {
        lose(this, 'the lock is held by another process');
        throw notLeader(`lease of epoch ${this.epoch} was taken over`);
      }
      this.assertValid();
    }
  }

  // Timers count from the event loop's cached clock, which lags `performance.now()` by however long the current
  // turn of the loop has run: a timer may fire before the lease has expired by `now()`. It then waits again rather
  // than give up, or a lease cut off from Redis (no renewal to notice it) would never end here.
  const armExpiry = (lease: LeaseImpl) => {
    clearTimeout(expiryTimer);
    expiryTimer = setTimeout(
      () => {
        if (current !== lease) return;
        if (lease.valid) armExpiry(lease);
        else lose(lease, 'lease expired before it could be renewed');
      },
      Math.max(0, lease.validUntil - now()) + 1,
    );
  };

  /** Ends `lease` here at once; `onDeposed` follows after any running transition. */
  function lose(lease: LeaseImpl, why: string) {
    if (current !== lease) return;
    current = undefined;
    lease.end();
    clearTimeout(expiryTimer);
    logger.warn({ key, epoch: lease.epoch, why }, 'leader lease lost');
    void transition(async () => {
      if (!acting) return;
      acting = false;
      await o.onDeposed();
    });
  }

  const renew = async (lease: LeaseImpl) => {
    if (!lease.valid) return lose(lease, 'lease expired before it could be renewed');
    const sentAt = now();
    const extended = await within(
      Math.min(everyMs, lease.validUntil - sentAt),
      conn.eval(RENEW, 1, key, lease.token, ttlMs),
      () => new Error('renewal timed out'),
    );
    if (current !== lease) return;
    // A reply after the local expiry does not revive the lease: work may already have been refused under it.
    if (!lease.valid) return lose(lease, 'lease expired before it could be renewed');
    if (extended !== 1) return lose(lease, 'the lock is held by another process');
    lease.validUntil = Math.max(lease.validUntil, sentAt + ttlMs - marginMs);
    armExpiry(lease);
  };

  const acquire = async () => {
    const sentAt = now();
    const epoch = Number(
      await within(everyMs, conn.eval(ACQUIRE, 2, key, `${key}:epoch`, holder, ttlMs), () => new Error('election timed out')),
    );
    if (!epoch) return;
    const lease = new LeaseImpl(holder, epoch, sentAt + ttlMs - marginMs);
    if (stopping || now() >= lease.validUntil) {
      await conn.eval(RELEASE, 1, key, lease.token).catch(() => undefined);
      return;
    }
    current = lease;
    armExpiry(lease);
    logger.info({ key, epoch }, 'leader lease acquired');
    void transition(async () => {
      if (current !== lease) return; // ended before it could start
      acting = true;
      try {
        await o.onElected();
      } catch (error) {
        // Step down and let the next beat (here or on another node) try again.
        logger.error({ err: errorMessage(error) }, 'leader start-up failed; stepping down');
        lose(lease, 'start-up failed');
        await conn.eval(RELEASE, 1, key, lease.token).catch(() => undefined);
      }
    });
  };

  const beat = async () => {
    // One command at a time; each is bounded by a timeout, so a hung Redis cannot stall the beat for long.
    if (beating || conn.status !== 'ready') return;
    beating = true;
    try {
      if (current) await renew(current);
      else if (!stopping) await acquire();
    } catch (error) {
      // Redis unreachable or slow: keep the lease until its local expiry; the expiry timer ends it.
      logger.warn({ err: errorMessage(error) }, 'leader lock check failed');
    } finally {
      beating = false;
    }
  };
  const interval = setInterval(() => void beat(), everyMs);
  conn.on('ready', () => void beat()); // first election (and after a reconnect) without waiting a period

  return {
    get isLeader() {
      return current?.valid ?? false;
    },
    get lease() {
      return current?.valid ? current : undefined;
    },
    async stop() {
      stopping = true;
      await transitions;
      // Resign while the lease still holds (renewal goes on), so in-flight work can finish sending.
      await transition(async () => {
        if (!acting) return;
        acting = false;
        await o.onDeposed();
      });
      clearInterval(interval);
      const lease = current;
      if (lease) {
        current = undefined;
        lease.end();
        clearTimeout(expiryTimer);
        await within(everyMs, conn.eval(RELEASE, 1, key, lease.token), () => new Error('release timed out')).catch(() => undefined);
      }
      await transitions;
      conn.disconnect();
    },
  };
}
