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
