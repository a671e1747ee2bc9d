/** Spaces calls evenly so that no more than a given number start in any second. */
export type Pacer = {
  /** Resolves when the next call may start; each caller gets its own slot. */
  wait(): Promise<void>;
};

/**
 * A pacer for `perSecond` calls a second (0 = no limit). Calls are spaced `1000 / perSecond` ms apart with no
 * burst: RPC providers that rate-limit `eth_getLogs` usually count over short windows, so an even pace stays
 * under a limit that a burst of the same average would trip.
 *
 * @example
 * const pace = createPacer(10);
 * for (const range of ranges) { await pace.wait(); await getLogs(provider, range); }
 */
export function createPacer(perSecond: number, now: () => number = Date.now): Pacer {
  if (!(perSecond > 0)) return { wait: async () => {} };
  const gapMs = 1000 / perSecond;
  let last = -Infinity;
  // Callers queue up, and each waits a full gap after the previous one actually started: a late timer does not
  // let the next calls catch up in a burst.
  let queue: Promise<void> = Promise.resolve();
  return {
    wait() {
      queue = queue.then(async () => {
        const delay = Math.ceil(last + gapMs - now());
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        last = now();
      });
      return queue;
    },
  };
}
