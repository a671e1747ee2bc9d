import type { Logger } from 'pino';
import { errorMessage } from './errors';

/** Things started so far, stopped in reverse order: how a runtime that fails half-way leaves nothing open. */
export type Scope = {
  /** Registers how to stop what was just started. */
  defer(name: string, stop: () => Promise<unknown> | unknown): void;
  /** Stops everything registered, last first; a failing stop is logged and the others still run. Runs once. */
  close(): Promise<void>;
  /** The part being stopped now (while `close()` runs): what a stop that hangs is waiting for. */
  readonly stopping: string | undefined;
};

/**
 * @example
 * const scope = createScope(logger);
 * try {
 *   const redis = new IORedis(url);
 *   scope.defer('redis', () => redis.quit());
 *   …
 * } catch (error) {
 *   await scope.close();
 *   throw error;
 * }
 */
export function createScope(logger: Logger): Scope {
  const stops: { name: string; stop: () => Promise<unknown> | unknown }[] = [];
  let closing: Promise<void> | undefined;
  let stopping: string | undefined;
  return {
    get stopping() {
      return stopping;
    },
    defer(name, stop) {
      stops.push({ name, stop });
    },
    close() {
      closing ??= (async () => {
        for (const { name, stop } of stops.reverse()) {
          stopping = name;
          try {
            await stop();
          } catch (error) {
            logger.warn({ part: name, err: errorMessage(error) }, 'stop failed');
          }
        }
        stopping = undefined;
      })();
      return closing;
    },
  };
}
