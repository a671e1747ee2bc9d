import { execFile } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../pipeline/embedded/ports';
import { createLogger } from '../../pipeline/logger';
import { startNode } from '../../pipeline/node';
import { type NodeFixture, startNodeFixture, template } from '../helpers/node-stack';

jest.setTimeout(120_000);

// Start-up that fails half-way must leave nothing open: every part started before the failure is stopped again,
// in reverse order, and the error is one line that says what to do.
let f: NodeFixture;
beforeAll(async () => {
  f = await startNodeFixture();
});
afterAll(() => f?.stop());

/** Handles (sockets, timers, servers) this process holds, by kind. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

const settle = () => new Promise((r) => setTimeout(r, 1_000));

describe('a node whose RPC is down at start', () => {
  it('fails with one clear error and leaves no handle open', async () => {
    const deadRpc = `http://127.0.0.1:${await freePort()}`;
    await settle();
    const before = handles();
    const started = Date.now();
    await expect(
      startNode({ config: f.config({ chain: { rpcUrl: deadRpc } }), template, logger: createLogger({ level: 'silent' }) }),
    ).rejects.toMatchObject({
      code: 'CHAIN_FAILED',
      shortMessage: expect.stringContaining(deadRpc),
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    // Idle keep-alive connections to the in-process Arweave gateway close by themselves within seconds; anything
    // the node left open (Redis connections, queues, timers, the spool watcher) would stay.
    // (Handles that were open before may close meanwhile; none may be added.)
    const added = () => Object.entries(handles()).filter(([kind, n]) => n > (before[kind] ?? 0));
    const deadline = Date.now() + 15_000;
    while (added().length && Date.now() < deadline) await settle();
    expect(added()).toEqual([]);
  });

  it('`aigc node` prints one line and exits non-zero', async () => {
    const deadRpc = `http://127.0.0.1:${await freePort()}`;
    const cli = path.resolve(__dirname, '../../dist/pipeline/cli/index.js');
    const env = { ...process.env, ...f.env(), AIGC_RPC_URL: deadRpc, LOG_LEVEL: 'silent' };
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [cli, 'node'], { env, timeout: 60_000 }, (error, _stdout, stderr) =>
        resolve({ code: child.exitCode ?? (error ? 1 : 0), stderr }),
      );
    });
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: cannot reach the chain at ${deadRpc.replace(/[.:/]/g, '\\$&')}`));
  });
});
