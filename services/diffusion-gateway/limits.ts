import { abortError, gatewayError } from './errors';

/**
 * A concurrency gate for one backend: at most `concurrency` jobs run, up to `queueLimit` wait in FIFO order,
 * beyond that BACKEND_BUSY at once. A waiter whose signal aborts leaves the queue.
 *
 * @example
 * const gate = createGate({ concurrency: 2, queueLimit: 10, backend: 'cog' });
 * const { value, queueMs } = await gate.run(signal, () => backend.render(input, signal));
 */
export function createGate({ concurrency, queueLimit, backend }: { concurrency: number; queueLimit: number; backend: string }) {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) next();
  };
  return {
    get running(): number {
      return running;
    },
    get queued(): number {
      return waiting.length;
    },
    async run<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<{ value: T; queueMs: number }> {
      const queuedAt = performance.now();
      if (running >= concurrency) {
        if (waiting.length >= queueLimit) {
          throw gatewayError({
            code: 'BACKEND_BUSY',
            message: `${backend}: ${running} renders running and ${waiting.length} queued; try later`,
            retryAfterMs: 1_000,
          });
        }
        await new Promise<void>((resolve, reject) => {
          const go = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const i = waiting.indexOf(go);
            if (i >= 0) waiting.splice(i, 1);
            reject(abortError(signal, backend));
          };
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          waiting.push(go);
        });
      }
      running++;
      const queueMs = performance.now() - queuedAt;
      try {
        return { value: await fn(), queueMs };
      } finally {
        release();
      }
    },
  };
}
export type Gate = ReturnType<typeof createGate>;

/**
 * Token-bucket rate limit per key: `burst` requests at once, refilled at `perMinute`. Returns 0 when allowed,
 * else the seconds to wait (for Retry-After).
 *
 * @example
 * const limiter = createRateLimiter({ perMinute: 60, burst: 10 });
 * const wait = limiter.take('key-a'); // 0
 */
export function createRateLimiter({ perMinute, burst, now = () => Date.now() }: { perMinute: number; burst: number; now?: () => number }) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  return {
    take(key: string): number {
      if (perMinute <= 0) return 0;
      const t = now();
      const b = buckets.get(key) ?? { tokens: burst, at: t };
      b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
      b.at = t;
      buckets.set(key, b);
      // Bound memory: forget full buckets once the map grows.
      if (buckets.size > 10_000) for (const [k, v] of buckets) if (v.tokens >= burst) buckets.delete(k);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
  };
}
