#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type EventLog, getAddress, hexlify, Wallet } from 'ethers';
import { startNodeFixture } from '../pipeline/embedded/node-fixture';
import { freePort } from '../pipeline/embedded/ports';
import { isFinalStatus, type MintStatus } from '../pipeline/sponsored/status';
import { loadTemplate } from '../pipeline/template';
import { startNodeProcess } from './node-process';
import { type ChainRecord, checkRun, type KeyRecord, type KillWindow, type MintRecord } from './web2-checks';
import { getJson, postMint } from './web2-client';

/**
 * Load and faults at the Web2 door: `requests` calls of `POST /v1/mints`, each with an Idempotency-Key (a share of
 * the keys sent twice, some at once, some a third of the run later), `concurrency` in flight, while the node process
 * (`aigc node`) is SIGKILLed `kills` times, evenly spread over the sends, and started again on the same port. The
 * client retries refused and reset connections, 503 and 429 with the same key, as any site should. Then it waits
 * for every mint to be final and checks the invariants (`checkRun`): each key one mint, paid and minted once. The
 * node keeps its per-key rate limit (600 a minute, bursts of 60, per process) unless `ratePerMinute` is given.
 *
 * Usage: node dist/bench/web2-load.js [--requests 1000] [--kills 2] [--concurrency 16] [--rate-per-minute N (0: off)]
 *        npm run bench -- web2-load   (BENCH_WEB2_REQUESTS, BENCH_WEB2_KILLS, BENCH_WEB2_CONCURRENCY, BENCH_WEB2_RATE_PER_MINUTE)
 * Prints one JSON line; exits 1 when an invariant broke (listed in `violations`).
 */

export type Web2LoadOptions = {
  /** POSTs sent, duplicates included. */
  requests: number;
  /** SIGKILLs of the node during the sends. */
  kills: number;
  /** POSTs in flight at once. @defaultValue 16 */
  concurrency?: number;
  /** The node's `POST /v1/mints` limit per API key (AIGC_API_RATE_PER_MINUTE; 0: none). @defaultValue the node's default */
  ratePerMinute?: number;
  /** Share of the keys sent a second time. @defaultValue 0.1 */
  duplicateShare?: number;
  /** How long to wait, after the sends, for every mint to be final. @defaultValue 10 minutes */
  finalTimeoutMs?: number;
  /** Progress lines (stderr for the command). */
  log?: (line: string) => void;
};

export type Web2LoadResult = {
  bench: 'web2-load';
  requests: number;
  uniqueKeys: number;
  duplicates: number;
  kills: number;
  concurrency: number;
  /** The node's rate limit per API key when the run set one (else the node's default applied). */
  ratePerMinute?: number;
  minted: number;
  /** Mints whose price went back to the operator (rejected or refunded on chain). */
  refunded: number;
  /** Mints that ended `failed` (never paid). */
  failed: number;
  /** HTTP 5xx answers by status (each attempt counted). */
  http5xx: Record<string, number>;
  /** HTTP 4xx answers by status (each attempt counted): 429 is the node's rate limit. */
  http4xx: Record<string, number>;
  /** Attempts that got no answer: refused or reset while the node was down. */
  connectionErrors: number;
  connectionErrorsByCode: Record<string, number>;
  timeouts: number;
  /** Attempts beyond one per request. */
  retries: number;
  /** Sends answered with `idempotent-replayed: true`. */
  replayed: number;
  /** Latency of the answered POSTs (whatever their status). */
  p50Ms: number;
  p99Ms: number;
  /** From each SIGKILL to the new process serving HTTP. */
  restartMs: number[];
  sendS: number;
  wallS: number;
  /** User + system CPU of every node process, per minted token. */
  nodeCpuMsPerMint: number;
  /** Broken invariants; empty when the run is sound. */
  violations: string[];
  /** The node processes' log, kept with the run's data dir when an invariant broke (else both are removed). */
  nodeLog?: string;
};

/**
 * The order of the sends: key indices, each key once, and `duplicates` keys (spread over the run) a second time,
 * every other one right behind its first send (so both are in flight together) and the rest a third of the keys later
 * (likely across a kill).
 */
export function sendPlan(requests: number, duplicateShare: number): { uniqueKeys: number; duplicates: number; order: number[] } {
  const duplicates = Math.round((requests * duplicateShare) / (1 + duplicateShare));
  const uniqueKeys = requests - duplicates;
  const every = duplicates ? uniqueKeys / duplicates : Infinity;
  const twice = new Set(Array.from({ length: duplicates }, (_, j) => Math.floor(j * every)));
  const gap = Math.max(1, Math.floor(uniqueKeys / 3));
  const later = new Map<number, number[]>(); // after key index → keys sent again there
  const order: number[] = [];
  let j = 0;
  for (let i = 0; i < uniqueKeys; i++) {
    order.push(i);
    if (twice.has(i)) {
      if (j++ % 2 === 0) order.push(i);
      else {
        const at = Math.min(uniqueKeys - 1, i + gap);
        later.set(at, [...(later.get(at) ?? []), i]);
      }
    }
    order.push(...(later.get(i) ?? []));
  }
  return { uniqueKeys, duplicates, order };
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (values: (string | number)[]) =>
  values.reduce<Record<string, number>>((out, v) => ({ ...out, [String(v)]: (out[String(v)] ?? 0) + 1 }), {});

function validate(o: Web2LoadOptions): Required<Omit<Web2LoadOptions, 'log' | 'ratePerMinute'>> & { ratePerMinute?: number } {
  const concurrency = o.concurrency ?? 16;
  const duplicateShare = o.duplicateShare ?? 0.1;
  const finalTimeoutMs = o.finalTimeoutMs ?? 600_000;
  const problems = [
    !(Number.isInteger(o.requests) && o.requests >= 1 && o.requests <= 100_000) && `requests: ${o.requests} (1 to 100000)`,
    !(Number.isInteger(o.kills) && o.kills >= 0 && o.kills <= 20) && `kills: ${o.kills} (0 to 20)`,
    !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 256) && `concurrency: ${concurrency} (1 to 256)`,
    !(duplicateShare >= 0 && duplicateShare <= 1) && `duplicate share: ${duplicateShare} (0 to 1)`,
    o.ratePerMinute !== undefined &&
      !(Number.isInteger(o.ratePerMinute) && o.ratePerMinute >= 0) &&
      `rate per minute: ${o.ratePerMinute} (an integer ≥ 0; 0 turns the limit off)`,
    !(Number.isInteger(finalTimeoutMs) && finalTimeoutMs > 0) && `final timeout: ${finalTimeoutMs} ms (a positive integer)`,
  ].filter(Boolean);
  if (problems.length) throw new Error(`invalid web2-load settings: ${problems.join('; ')}`);
  return { requests: o.requests, kills: o.kills, concurrency, duplicateShare, finalTimeoutMs, ratePerMinute: o.ratePerMinute };
}

/** Starts the stack and the node process, runs the load with its kills, waits for the mints and checks the run. */
export async function runWeb2Load(options: Web2LoadOptions): Promise<Web2LoadResult> {
  const { requests, kills, concurrency, duplicateShare, finalTimeoutMs, ratePerMinute } = validate(options);
  const log = options.log ?? (() => {});
  const wallStart = performance.now();
  const now = () => performance.now() - wallStart;
  // The node tests' template: moderation off, as a refund of an abstract image scored "porn" is no fault of the door.
  const { moderation: _moderation, ...template } = loadTemplate('open-prompt');
  const f = await startNodeFixture({ template, accounts: 2 });
  log(`stack up in ${Math.round(now())} ms (data dir ${f.dataDir})`);
  const apiKey = `load-${randomBytes(16).toString('hex')}`;
  const node = await startNodeProcess({
    env: {
      ...f.env(),
      AIGC_API_KEYS: apiKey,
      ...(ratePerMinute === undefined ? {} : { AIGC_API_RATE_PER_MINUTE: String(ratePerMinute) }),
    },
    port: await freePort(),
    logPath: path.join(f.dataDir, 'node.log'),
  }).catch(async (error) => {
    await f.stop();
    throw error;
  });
  let sound = false; // a run that broke nothing leaves no files behind
  try {
    const plan = sendPlan(requests, duplicateShare);
    const run = randomBytes(4).toString('hex');
    const keys: KeyRecord[] = Array.from({ length: plan.uniqueKeys }, (_, i) => ({
      key: `load-${run}-${i}`,
      to: getAddress(hexlify(randomBytes(20))),
      sends: [],
    }));

    // SIGKILL at evenly spread sends, one after another: kill, start again, then the next may come.
    const killAt = new Set(Array.from({ length: kills }, (_, m) => Math.floor(((m + 1) * plan.order.length) / (kills + 1))));
    const killWindows: KillWindow[] = [];
    let killing: Promise<void> = Promise.resolve();
    let killFailure: unknown;
    const killAndRestart = async () => {
      const fromMs = now();
      const exit = await node.kill();
      if (exit.signal !== 'SIGKILL') throw new Error(`the node process ended with ${JSON.stringify(exit)}, not by SIGKILL`);
      await node.start();
      killWindows.push({ fromMs, toMs: now() });
      log(`kill ${killWindows.length}: node down for ${Math.round(now() - fromMs)} ms`);
    };

    const client = { url: node.url, apiKey, now };
    const sendStart = now();
    await pool(plan.order, concurrency, async (k, i) => {
      if (killAt.has(i))
        killing = killing.then(killAndRestart).catch((error: unknown) => {
          killFailure ??= error;
        });
      const { key, to } = keys[k];
      keys[k].sends.push(await postMint(client, key, { to, prompt: `load ${k}: a lighthouse at dawn` }));
    });
    await killing;
    if (killFailure) throw killFailure;
    const sendS = (now() - sendStart) / 1000;
    log(`${plan.order.length} sends in ${sendS.toFixed(1)} s`);

    // Until every mint is final: the chain's fulfilments tell when to ask the API, which also reports failures.
    const ids = [...new Set(keys.flatMap((k) => k.sends.flatMap((s) => (s.id ? [s.id] : []))))];
    const mints = new Map<string, MintRecord | undefined>();
    const pending = new Set(ids);
    const deadline = now() + finalTimeoutMs;
    let asked = -Infinity;
    while (pending.size && now() < deadline) {
      const minted = (await f.collection.queryFilter(f.collection.filters.MintFulfilled(), f.deployBlock)).length;
      if (minted >= ids.length || now() - asked > 15_000) {
        asked = now();
        await pool([...pending], 4, async (id) => {
          const { status, body } = await getJson<MintStatus>(node.url, `/v1/mints/${id}`);
          if (status !== 200) return;
          mints.set(id, body);
          if (isFinalStatus(body.status)) pending.delete(id);
        });
        log(`${ids.length - pending.size} of ${ids.length} mints final, ${minted} minted on chain`);
      }
      if (pending.size) await sleep(1_000);
    }

    const chain = await readChain(f.collection, f.deployBlock, new Wallet(f.stack.anvil.privateKeys[1]).address);
    const nodeCpuMs = node.cpuMs();
    if (node.unexpectedExit) throw new Error(node.unexpectedExit);
    const violations = checkRun({ keys, killWindows, mints, chain });
    for (const id of pending) violations.push(`mint ${id}: not final after ${finalTimeoutMs} ms (${mints.get(id)?.status ?? 'no status'})`);
    const stopped = await node.stop();
    if (stopped.code !== 0) violations.push(`the node did not stop cleanly on SIGTERM: ${JSON.stringify(stopped)}`);

    const attempts = keys.flatMap((k) => k.sends.flatMap((s) => s.attempts));
    const answered = attempts.filter((a) => a.outcome === 'answer');
    const latencies = answered.map((a) => a.endMs - a.startMs).sort((a, b) => a - b);
    const statuses = [...mints.values()].map((m) => m?.status);
    const minted = statuses.filter((s) => s === 'minted').length;
    const connection = attempts.filter((a) => a.outcome === 'connection');
    sound = violations.length === 0;
    return {
      bench: 'web2-load',
      requests: plan.order.length,
      uniqueKeys: plan.uniqueKeys,
      duplicates: plan.duplicates,
      kills: killWindows.length,
      concurrency,
      ...(ratePerMinute === undefined ? {} : { ratePerMinute }),
      minted,
      refunded: statuses.filter((s) => s === 'refunded' || s === 'rejected').length,
      failed: statuses.filter((s) => s === 'failed').length,
      http5xx: count(answered.filter((a) => a.status! >= 500).map((a) => a.status!)),
      http4xx: count(answered.filter((a) => a.status! >= 400 && a.status! < 500).map((a) => a.status!)),
      connectionErrors: connection.length,
      connectionErrorsByCode: count(connection.map((a) => a.code ?? 'UNKNOWN')),
      timeouts: attempts.filter((a) => a.outcome === 'timeout').length,
      retries: attempts.length - plan.order.length,
      replayed: keys.flatMap((k) => k.sends).filter((s) => s.replayed).length,
      p50Ms: Math.round(percentile(latencies, 50)),
      p99Ms: Math.round(percentile(latencies, 99)),
      restartMs: killWindows.map((w) => Math.round(w.toMs - w.fromMs)),
      sendS: Number(sendS.toFixed(1)),
      wallS: Number((now() / 1000).toFixed(1)),
      nodeCpuMsPerMint: Number((nodeCpuMs / Math.max(1, minted)).toFixed(1)),
      violations,
      ...(violations.length ? { nodeLog: node.logPath } : {}),
    };
  } finally {
    await node.stop().catch(() => undefined);
    await f.stop();
    if (sound) fs.rmSync(f.dataDir, { recursive: true, force: true });
  }
}

/** The collection's requests, fulfilments and the owners of the mints' tokens. */
async function readChain(
  collection: Awaited<ReturnType<typeof startNodeFixture>>['collection'],
  fromBlock: number,
  operator: string,
): Promise<ChainRecord> {
  const logs = async (name: string) => (await collection.queryFilter(collection.filters[name](), fromBlock)) as EventLog[];
  const requested = (await logs('MintRequested')).map((l) => ({
    requestId: String(l.args.requestId),
    requester: String(l.args.requester),
    recipient: String(l.args.recipient),
  }));
  const fulfilled = (await logs('MintFulfilled')).map((l) => String(l.args.requestId));
  const owners = new Map<string, string>();
  const tokens = [...new Set(fulfilled)];
  await pool(tokens, 16, async (id) => {
    owners.set(id, String(await collection.ownerOf(id)));
  });
  return { operator, requested, fulfilled, owners };
}

/** `--requests N --kills K --concurrency C --rate-per-minute R` → options; a bad or unknown flag throws with the usage. */
export function parseArgs(argv: string[]): Web2LoadOptions {
  const usage = 'usage: web2-load [--requests 1000] [--kills 2] [--concurrency 16] [--rate-per-minute N (0: no limit)]';
  const flags: Record<string, number | undefined> = { requests: 1000, kills: 2, concurrency: 16, 'rate-per-minute': undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!(name in flags) || !argv[i].startsWith('--') || argv[i + 1] === undefined || !Number.isInteger(value))
      throw new Error(`bad argument ${argv[i]} ${argv[i + 1] ?? ''}`.trim() + `; ${usage}`);
    flags[name] = value;
  }
  return { requests: flags.requests!, kills: flags.kills!, concurrency: flags.concurrency, ratePerMinute: flags['rate-per-minute'] };
}

/** `npm run bench -- web2-load`, set by BENCH_WEB2_REQUESTS, BENCH_WEB2_KILLS, BENCH_WEB2_CONCURRENCY, BENCH_WEB2_RATE_PER_MINUTE. */
export async function run(): Promise<Web2LoadResult> {
  const result = await runWeb2Load({
    requests: Number(process.env.BENCH_WEB2_REQUESTS ?? 1000),
    kills: Number(process.env.BENCH_WEB2_KILLS ?? 2),
    concurrency: Number(process.env.BENCH_WEB2_CONCURRENCY ?? 16),
    ratePerMinute: process.env.BENCH_WEB2_RATE_PER_MINUTE === undefined ? undefined : Number(process.env.BENCH_WEB2_RATE_PER_MINUTE),
    log: (line) => console.error(line),
  });
  if (result.violations.length) process.exitCode = 1;
  return result;
}

if (require.main === module) {
  (async () => {
    const result = await runWeb2Load({ ...parseArgs(process.argv.slice(2)), log: (line) => console.error(line) });
    console.log(JSON.stringify(result));
    process.exit(result.violations.length ? 1 : 0);
  })().catch((error) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
}
