import { runWeb2Load } from '../../bench/web2-load';

// The load run of the Web2 door (bench/web2-load.ts, 1,000 requests there) at a size CI affords: POST /v1/mints with
// Idempotency-Keys, some sent twice, while the node process (the compiled `aigc node`) is SIGKILLed twice and
// restarted. It asserts the run's invariants, not its timings.
jest.setTimeout(240_000);

it('mints every key once through two SIGKILLs: one mint id per key, one paid and fulfilled request each, no 5xx', async () => {
  const result = await runWeb2Load({ requests: 60, kills: 2, concurrency: 8, finalTimeoutMs: 120_000 });
  expect({ violations: result.violations, nodeLog: result.nodeLog }).toEqual({ violations: [], nodeLog: undefined });
  expect(result).toMatchObject({ requests: 60, uniqueKeys: 55, duplicates: 5, kills: 2, minted: 55, refunded: 0, failed: 0 });
  // The node really was down under the client: sends met refused or reset connections, and were retried.
  expect(result.connectionErrors).toBeGreaterThan(0);
  expect(result.retries).toBeGreaterThanOrEqual(result.connectionErrors);
  // Only the documented, retryable 503 may appear among 5xx answers.
  expect(Object.keys(result.http5xx).filter((status) => status !== '503')).toEqual([]);
  // Each duplicated key's second send, at least, was answered as a replay of the first.
  expect(result.replayed).toBeGreaterThanOrEqual(result.duplicates);
});
