import { AigcError } from './errors';

export type RateLimiterOptions = {
  /** Tokens added per minute, per key; 0 = no limit. */
  perMinute: number;
  /** Requests a key may make at once (the bucket's size). */
  burst: number;
  /**
   * Keys remembered at most; past it the least recently seen is forgotten (it starts again with a full bucket).
   * Callers key by API key digest, so only a flood of distinct client addresses gets near it. @defaultValue 10_000
   */
  maxKeys?: number;
  now?: () => number;
};

export type RateLimiter = {
  /** Takes one request for `key`: 0 when allowed, else the whole seconds until one is (for Retry-After, at least 1). */
  take(key: string): number;
  /** Keys remembered now (bounded by `maxKeys`). */
  readonly size: number;
};

/**
 * A token bucket per key: `burst` requests at once, refilled at `perMinute`. Memory is bounded: the map holds at
 * most `maxKeys` buckets, evicting the least recently seen one, so each call is O(1).
 *
 * @example
 * const limiter = createRateLimiter({ perMinute: 600, burst: 60 });
 * const waitS = limiter.take(keyDigest); // 0: go ahead; else answer 429 with Retry-After: waitS
 */
export function createRateLimiter({ perMinute, burst, maxKeys = 10_000, now = () => Date.now() }: RateLimiterOptions): RateLimiter {
  if (!Number.isFinite(perMinute) || perMinute < 0)
    throw new AigcError('CONFIG_INVALID', `rate limit: perMinute must be a number ≥ 0 (0 = no limit), got ${perMinute}`);
  if (!Number.isInteger(burst) || burst < 1)
    throw new AigcError('CONFIG_INVALID', `rate limit: burst must be an integer ≥ 1, got ${burst}`);
  if (!Number.isInteger(maxKeys) || maxKeys < 1)
    throw new AigcError('CONFIG_INVALID', `rate limit: maxKeys must be an integer ≥ 1, got ${maxKeys}`);
  // Insertion order is recency order: a key is re-inserted on every take, so the first key is the stalest.
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  return {
    take(key: string): number {
      if (perMinute === 0) return 0;
      const t = now();
      const b = buckets.get(key) ?? { tokens: burst, at: t };
      b.tokens = Math.min(burst, b.tokens + Math.max(0, t - b.at) * perMs);
      b.at = t;
      buckets.delete(key);
      buckets.set(key, b);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1_000));
    },
    get size() {
      return buckets.size;
    },
  };
}
