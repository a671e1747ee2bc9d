import type { Contract, EventLog } from 'ethers';

/** Resolves after `ms`. Only for waits that are the behaviour under test (a TTL, a window, "nothing more happens"). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `done()` every `intervalMs` until it is true; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 60_000, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Polls the contract's `name` logs from `fromBlock` until `enough(logs)`, and returns them. */
export async function untilLogs(
  contract: Contract,
  name: string,
  enough: (logs: EventLog[]) => boolean,
  { fromBlock = 0, timeoutMs = 60_000, intervalMs = 200 }: { fromBlock?: number; timeoutMs?: number; intervalMs?: number } = {},
): Promise<EventLog[]> {
  let logs: EventLog[] = [];
  await until(
    `${name} logs`,
    async () => enough((logs = (await contract.queryFilter(contract.filters[name](), fromBlock)) as EventLog[])),
    timeoutMs,
    intervalMs,
  );
  return logs;
}
