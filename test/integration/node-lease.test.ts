import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Transaction, Wallet } from 'ethers';
import { events, type NodeFixture, sendRequests, startNodeFixture } from '../helpers/node-stack';
import { until } from '../helpers/wait';

// Two operator nodes (the compiled `aigc node`) on one Redis and one signer key. The leader is frozen with SIGSTOP
// while its fulfilments wait in its batcher, past the lease TTL; the other node takes over and mints. Resumed with
// SIGCONT, the first node must send nothing more: its lease ended while it was frozen.
jest.setTimeout(120_000);

const CLI = path.resolve(__dirname, '../../dist/pipeline/cli/index.js');
const TTL_MS = 2_000;
// Node A holds its fulfilments this long before sending a batch, so they are still queued when it is frozen.
const A_BATCH_WINDOW_MS = 5_000;
const REQUESTS = 4;

type LogLine = { msg: string; err?: string; [k: string]: unknown };
type NodeProcess = { name: string; proc: ChildProcess; lines: LogLine[] };

let f: NodeFixture;
let rpc: { url: string; sends: { at: number; raw: string }[]; close(): Promise<void> };
const nodes: NodeProcess[] = [];
// Outside the fixture's data directory, which is removed when it stops: kept to explain a failure.
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-node-lease-'));

/** A JSON-RPC proxy in front of anvil that records every eth_sendRawTransaction passing through it. */
async function startRpcRecorder(target: string): Promise<typeof rpc> {
  const sends: { at: number; raw: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      try {
        const parsed = JSON.parse(body) as { method: string; params: unknown[] } | { method: string; params: unknown[] }[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
          if (call.method === 'eth_sendRawTransaction') sends.push({ at: Date.now(), raw: call.params[0] as string });
        }
        const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sends,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function startNode(name: string, env: Record<string, string>): NodeProcess {
  const proc = spawn(process.execPath, [CLI, 'node'], {
    env: { ...process.env, ...f.env(), AIGC_LEADER_TTL_MS: String(TTL_MS), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node: NodeProcess = { name, proc, lines: [] };
  const log = fs.createWriteStream(path.join(logDir, `node-${name}.log`));
  // The log goes to stderr, the CLI's own lines to stdout.
  for (const stream of [proc.stdout!, proc.stderr!]) {
    let rest = '';
    stream.on('data', (d: Buffer) => {
      log.write(d);
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        try {
          node.lines.push(JSON.parse(line) as LogLine);
        } catch {
          node.lines.push({ msg: line });
        }
      }
    });
  }
  proc.once('exit', () => log.end());
  nodes.push(node);
  return node;
}

const logged = (node: NodeProcess, msg: string) => node.lines.some((l) => l.msg === msg);
const exited = (proc: ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  f = await startNodeFixture();
  rpc = await startRpcRecorder(f.stack.anvil.rpcUrl);
});
afterAll(async () => {
  for (const { proc } of nodes) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited(proc);
  }
  await rpc?.close();
  await f?.stop();
});

describe('leader frozen past its lease', () => {
  it('sends nothing after it resumes; the node that took over mints every request once', async () => {
    const fulfillQueue = new Queue('fulfill-31337', { connection: { url: f.redis.url } as never, prefix: 'aigc' }); // anvil's chain id
    try {
      // A first, so it leads; its chain traffic goes through the recorder.
      const a = startNode('a', { AIGC_RPC_URL: rpc.url, AIGC_BATCH_WINDOW_MS: String(A_BATCH_WINDOW_MS) });
      await until('a elected', async () => logged(a, 'leader: elected'), 30_000);
      const b = startNode('b', {});
      await until('b started', async () => logged(b, 'node started'), 30_000);

      const requests = await sendRequests(
        f,
        Array.from({ length: REQUESTS }, (_, i) => `a lighthouse in fog ${i}`),
      );
      // Every fulfilment is in A's batcher, waiting for its window: work queued under A's lease.
      await until('fulfilments held by a', async () => (await fulfillQueue.getJobCounts('active')).active === REQUESTS, 30_000);
      expect(await events(f, 'MintFulfilled')).toEqual([]);

      a.proc.kill('SIGSTOP');
      await until('b elected', async () => logged(b, 'leader: elected'), 3 * TTL_MS + 5_000);
      await new Promise((r) => setTimeout(r, 500)); // A stays frozen a little into B's lease: the overlap under test
      const resumedAt = Date.now();
      a.proc.kill('SIGCONT');

      await until(`${REQUESTS} mints`, async () => (await events(f, 'MintFulfilled')).length >= REQUESTS, 40_000);
      // A's batch window has long passed: whatever it would send, it has tried by now.
      await until('a deposed', async () => logged(a, 'no longer leader'), 10_000);
      await new Promise((r) => setTimeout(r, 1_000)); // checks that nothing happens: A sends nothing more after it was deposed

      // A broadcast nothing after it resumed, and refused the batch it held.
      const sent = (s: { at: number; raw: string }) => ({ at: s.at, ...pick(Transaction.from(s.raw)) });
      expect(rpc.sends.filter((s) => s.at >= resumedAt).map(sent)).toEqual([]);
      expect(rpc.sends.map(sent)).toEqual([]); // nor before: it was frozen before its window ended
      const refusals = a.lines.filter((l) => l.msg === 'fulfillBatch failed; items will retry');
      expect(refusals.length).toBeGreaterThan(0);
      for (const r of refusals) expect(r.err).toMatch(/^not the leader/);

      // Every request minted exactly once, by one writer: no duplicate skipped on chain, contiguous signer nonces.
      const minted = (await events(f, 'MintFulfilled')).map((l) => l.args.requestId as bigint).sort((x, y) => Number(x - y));
      expect(minted).toEqual(requests.map((r) => r.requestId).sort((x, y) => Number(x - y)));
      expect(await events(f, 'FulfillSkipped')).toEqual([]);
      const signer = new Wallet(f.stack.anvil.privateKeys[1]).address;
      const mined: { hash: string; nonce: number }[] = [];
      for (let n = f.deployBlock + 1; n <= (await f.provider.getBlockNumber()); n++) {
        const block = await f.provider.getBlock(n, true);
        for (const tx of block!.prefetchedTransactions)
          if (tx.from.toLowerCase() === signer.toLowerCase()) mined.push({ hash: tx.hash, nonce: tx.nonce });
      }
      expect(mined.length).toBeGreaterThan(0);
      expect(mined.map((t) => t.nonce)).toEqual(mined.map((_, i) => mined[0].nonce + i));
      // None of the signer's transactions on chain came through A.
      const fromA = new Set(rpc.sends.map((s) => Transaction.from(s.raw).hash));
      expect(mined.filter((t) => fromA.has(t.hash))).toEqual([]);

      for (const node of [a, b]) node.proc.kill('SIGTERM');
      expect(await exited(a.proc)).toEqual({ code: 0, signal: null });
      expect(await exited(b.proc)).toEqual({ code: 0, signal: null });
    } finally {
      await fulfillQueue.close();
    }
  });
});

/** What identifies a broadcast transaction in a failure message. */
const pick = (tx: Transaction) => ({ hash: tx.hash, nonce: tx.nonce, selector: tx.data.slice(0, 10) });
