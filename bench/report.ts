import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { profileTable, type summariseProfile } from './profile-summary';

/** Results of one `npm run bench` (bench/results/latest.json). */
export type BenchResults = {
  machine: { cpus: string; cores: number; memGb: number; node: string; os: string; commit: string; date: string };
  /** Each bench's JSON line; `pipeline` holds one entry per configuration of the sweep. */
  gas?: Record<string, unknown>;
  gateway?: Record<string, unknown>[];
  arweave?: Record<string, unknown>;
  pipeline?: Record<string, unknown>[];
  /** `web2-load`: sponsored mints while the node is SIGKILLed (`docs/load-test.md`). */
  web2Load?: Record<string, unknown>;
  /** The node's CPU by stage, from one profiled pipeline run (`profile-summary.ts`). */
  profile?: { mints: number; nodeCpuMsPerMint: number; stages: ReturnType<typeof summariseProfile> };
};

const ROOT = path.join(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
// vega and vega-lite are ES modules with top-level await; tsc would turn a plain import() into require().
const esm = new Function('s', 'return import(s)') as (s: string) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Renders a vega-lite spec to an SVG string. */
async function svg(spec: Record<string, unknown>): Promise<string> {
  const vl = await esm('vega-lite');
  const vega = await esm('vega');
  const view = new vega.View(vega.parse(vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', ...spec }).spec), {
    renderer: 'none',
  });
  return view.toSVG();
}

export function machine(): BenchResults['machine'] {
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  return {
    cpus: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    commit,
    date: new Date().toISOString(),
  };
}

/** The middle value (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const num = (v: unknown) => Number(v);

/** The plots: name → vega-lite spec, for the parts of `r` that were measured. */
function plots(r: BenchResults): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const base = { width: 420, height: 240, background: 'white' };
  const pipe = r.pipeline ?? [];
  const withOverheads = pipe.find((p) => p.overheadsMs);
  if (withOverheads) {
    const values = Object.entries(withOverheads.overheadsMs as Record<string, number[]>).flatMap(([rate, xs]) =>
      xs.map((ms) => ({ offered: rate === 'saturated' ? 'all at once (saturated)' : `${rate} requests/s`, ms })),
    );
    // A cumulative distribution on a log scale: the saturated run's seconds and the paced run's tens of milliseconds
    // are both readable, and any percentile is read off the y axis.
    out['overhead-distribution'] = {
      ...base,
      title: 'Request → mint overhead (render time taken out), cumulative',
      data: { values: values.map((v) => ({ ...v, ms: Math.max(1, v.ms) })) },
      transform: [{ sort: [{ field: 'ms' }], window: [{ op: 'cume_dist', as: 'share' }], groupby: ['offered'] }],
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'overhead (ms, log scale)' },
        y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'requests minted within' },
        color: { field: 'offered', type: 'nominal', title: 'offered load', legend: { labelLimit: 240 } },
      },
    };
  }
  if (pipe.length) {
    out['mints-per-second'] = {
      ...base,
      title: 'Mints/s by generate concurrency and node processes (256², bundle mode)',
      data: {
        values: pipe.map((p) => ({
          concurrency: num(p.generateConcurrency),
          processes: `${num(p.nodeProcesses ?? 1)} process(es)`,
          mintsPerSec: num(p.mintsPerSec),
        })),
      },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'concurrency', type: 'ordinal', title: 'AIGC_GENERATE_CONCURRENCY' },
        y: { field: 'mintsPerSec', type: 'quantitative', title: 'mints/s' },
        color: { field: 'processes', type: 'nominal', title: 'node processes' },
      },
    };
  }
  const gas = r.gas;
  if (gas?.perNftByBatch) {
    const ritual = gas.ritualPerNft as { measured: number; published: number };
    const values = Object.entries(gas.perNftByBatch as Record<string, number>).map(([size, g]) => ({ size: Number(size), gas: g }));
    out['gas-per-nft'] = {
      ...base,
      title: 'Gas per NFT (requestMint + share of fulfillBatch) by batch size',
      layer: [
        {
          data: { values },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'size', type: 'quantitative', scale: { type: 'log' }, title: 'batch size' },
            y: { field: 'gas', type: 'quantitative', title: 'gas per NFT', scale: { zero: true } },
          },
        },
        {
          data: {
            values: [
              { label: `Ritual prompt-to-nft, measured (${ritual.measured.toLocaleString('en-US')})`, gas: ritual.measured },
              { label: `Ritual, published (${ritual.published.toLocaleString('en-US')})`, gas: ritual.published },
            ],
          },
          layer: [
            { mark: { type: 'rule', strokeDash: [4, 4], color: 'firebrick' }, encoding: { y: { field: 'gas', type: 'quantitative' } } },
            {
              mark: { type: 'text', align: 'right', dy: -6, x: 415, color: 'firebrick', fontSize: 10 },
              encoding: { y: { field: 'gas', type: 'quantitative' }, text: { field: 'label' } },
            },
          ],
        },
      ],
    };
  }
  const ar = r.arweave;
  if (ar?.bytesByFormat) {
    const values = Object.entries(ar.bytesByFormat as Record<string, Record<string, number>>).flatMap(([size, byFormat]) =>
      Object.entries(byFormat).map(([format, bytes]) => ({ size, format, kb: bytes / 1024 })),
    );
    out['arweave-bytes'] = {
      ...base,
      title: 'Arweave bytes per NFT (image + manifest) by format and template size',
      data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'size', type: 'nominal', title: 'template size' },
        xOffset: { field: 'format' },
        y: { field: 'kb', type: 'quantitative', title: 'KiB per NFT' },
        color: { field: 'format', type: 'nominal' },
      },
    };
  }
  return out;
}

/** HTTP answers by status (`{"429": 12}`) in words, or `none` when there were none. */
function answers(byStatus: unknown, none: string): string {
  const entries = Object.entries((byStatus ?? {}) as Record<string, number>);
  return entries.length ? entries.map(([status, n]) => `${n.toLocaleString('en-US')} × ${status}`).join(', ') : none;
}

/** A pipeline figure: the median of the runs, with their range when there were several. */
function withRange(p: Record<string, unknown>, key: string): string {
  const xs = (p.spread as Record<string, number[]> | undefined)?.[key];
  if (!xs || xs.length < 2) return cell(p[key]);
  return `${cell(p[key])} (${cell(Math.min(...xs))}–${cell(Math.max(...xs))})`;
}

const cell = (v: unknown) => (v === undefined || v === null ? '–' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v));

/** Writes the SVGs and BENCHMARKS.md from `r`. */
export async function writeReport(r: BenchResults): Promise<string[]> {
  fs.mkdirSync(RESULTS, { recursive: true });
  const written: string[] = [];
  const specs = plots(r);
  for (const [name, spec] of Object.entries(specs)) {
    fs.writeFileSync(path.join(RESULTS, `${name}.svg`), await svg(spec));
    written.push(`bench/results/${name}.svg`);
  }
  const m = r.machine;
  const lines: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` from \`bench/results/latest.json\` (commit ${m.commit}, ${m.date.slice(0, 10)}). Regenerate the`,
    'report alone from that file with `npm run bench -- report`.',
    '',
    '## Machine-independent figures',
    '',
    'Mints/s depend on the machine (the same commit measured 55 and 35 mints/s on two 2-core boxes). CPU time per unit of',
    'work does not: it says what an operator’s hardware must supply, and compares across machines. It is the user + system',
    'CPU of each process (read from `/proc/<pid>/stat` by the bench, outside the process) divided by the mints (node) or',
    'renders (gateway) of the throughput run. Each row is the median of its runs, with their range in brackets.',
    '',
    '| node processes | generate concurrency | requests | mints/s | node CPU ms / mint | gateway CPU ms / render | overhead p50 / p95 / p99 (ms) | peak RSS (MB) |',
    '| -: | -: | -: | -: | -: | -: | -: | -: |',
    ...(r.pipeline ?? []).map(
      (p) =>
        `| ${cell(p.nodeProcesses ?? 1)} | ${cell(p.generateConcurrency)} | ${cell(p.requests)} | ${withRange(p, 'mintsPerSec')} | ${withRange(p, 'nodeCpuMsPerMint')} | ${withRange(p, 'gatewayCpuMsPerRender')} | ${cell(p.overheadP50Ms)} / ${cell(p.overheadP95Ms)} / ${cell(p.overheadP99Ms)} at ${cell(p.overheadAtRequestsPerSec)}/s | ${cell(p.peakRssMb)} |`,
    ),
    '',
    'Target: `nodeCpuMsPerMint` ≤ 10 (aim 5). Where the node’s CPU goes is in [Profile](#profile) below.',
    '',
  ];
  const img = (name: string, alt: string) => (specs[name] ? [`![${alt}](bench/results/${name}.svg)`, ''] : []);
  lines.push('## Request → mint overhead', '', ...img('overhead-distribution', 'overhead distribution'));
  lines.push('## Throughput', '', ...img('mints-per-second', 'mints per second'));
  if (r.gas) {
    const g = r.gas;
    lines.push(
      '## Gas',
      '',
      ...img('gas-per-nft', 'gas per NFT by batch size'),
      '| batch size | gas per NFT |',
      '| -: | -: |',
      ...Object.entries((g.perNftByBatch ?? {}) as Record<string, number>).map(([s, v]) => `| ${s} | ${cell(v)} |`),
      '',
      `requestMint ${cell(g.requestMint)}, fulfil alone ${cell(g.fulfill)}, collection clone ${cell(g.cloneDeploy)} gas. Reference: Ritual’s`,
      'prompt-to-nft, 491,454 gas per NFT measured with their code, 465,241 published.',
      '',
    );
  }
  if (r.arweave) {
    const a = r.arweave;
    lines.push(
      '## Arweave',
      '',
      ...img('arweave-bytes', 'Arweave bytes per NFT'),
      '```json',
      JSON.stringify(Object.fromEntries(Object.entries(a).filter(([k]) => k !== 'bytesByFormat'))),
      '```',
      '',
    );
  }
  if (r.gateway?.length) {
    const o50 = median(r.gateway.map((g) => num(g.overheadP50Ms)));
    const o99 = median(r.gateway.map((g) => num(g.overheadP99Ms)));
    const mod = r.gateway.flatMap((g) => (g.moderationMs ? [g.moderationMs as { p50: number; p99: number; classifier: string }] : []));
    lines.push(
      '## Gateway',
      '',
      `Overhead of the gateway over calling the backend directly (A1111 protocol, 200 ms renders, concurrency 16): median of ${r.gateway.length} runs p50 ${o50} ms, p99 ${o99} ms.`,
      '',
      ...(mod.length
        ? [
            `Image moderation (\`moderationMs\`: ${mod[0].classifier}, one 512² image, loaded once per process): median of ${mod.length} runs p50 ${median(mod.map((m) => m.p50))} ms, p99 ${median(mod.map((m) => m.p99))} ms (runs' p99 ${Math.min(...mod.map((m) => m.p99))}–${Math.max(...mod.map((m) => m.p99))} ms).`,
            '',
          ]
        : []),
    );
  }
  if (r.web2Load) {
    const w = r.web2Load;
    lines.push(
      '## The Web2 door under faults',
      '',
      `${cell(w.requests)} \`POST /v1/mints\` calls for ${cell(w.uniqueKeys)} Idempotency-Keys (${cell(w.duplicates)} sent twice), ${cell(w.concurrency)} in flight,`,
      `while the node was SIGKILLed ${cell(w.kills)} times (down ${((w.restartMs as number[] | undefined) ?? []).map((ms) => `${cell(ms)} ms`).join(', ')}): ${cell(w.minted)} minted,`,
      `${cell(w.refunded)} refunded, ${cell(w.failed)} failed, ${answers(w.http5xx, 'no 5xx')}, ${answers(w.http4xx, 'no other answers')} (retried),`,
      `${cell(w.connectionErrors)} connection errors while the node was down, ${((w.violations as unknown[] | undefined) ?? []).length} broken invariants;`,
      `answered calls p50 ${cell(w.p50Ms)} ms, p99 ${cell(w.p99Ms)} ms; ${cell(w.wallS)} s in all. The invariants and the command are in`,
      '[docs/load-test.md](docs/load-test.md).',
      '',
    );
  }
  lines.push('## Profile', '');
  if (r.profile) {
    lines.push(
      `Where the node’s CPU goes: one run of the default setting (${r.profile.mints} requests sent at once) under V8’s sampling`,
      'profiler (`--cpu-prof`), each sample counted once, for the pipeline module nearest the top of its stack, else the',
      'library running it (socket, timer and promise callbacks), else Node’s runtime. The profile covers the whole process,',
      `start-up included; the profiler itself adds ~10 % (this run: ${r.profile.nodeCpuMsPerMint} ms CPU per mint measured from outside).`,
      '`BENCH_PROFILE_DIR=<dir> npm run bench -- pipeline` writes the profiles; `node dist/bench/profile-summary.js <file> <mints>` summarises one.',
      '',
      profileTable(r.profile.stages, 'mint'),
      '',
    );
  } else lines.push('No profile in this run.', '');
  lines.push(
    '## Methodology',
    '',
    `Machine: ${m.cpus}, ${m.cores} cores, ${m.memGb} GB, ${m.os}, Node ${m.node}. All processes (anvil, arlocal, Redis, the`,
    'gateway, the node and the load generator) share these cores, so figures are for the whole local stack.',
    '',
    '- **gas**: receipts on anvil; a 60-byte prompt, first-time collectors, after one warm-up mint. Deterministic: one run.',
    '- **gateway**: the load generator, the gateway and an A1111-protocol stand-in each in their own process; overhead = gateway − direct per percentile.',
    '- **pipeline**: `requestMint` transactions signed by the bench and sent to anvil (automine); mints timed when anvil pushes `MintFulfilled` over',
    '  a WebSocket; overhead = request-to-mint minus the render time the node logged for that request. The `local` renderer at 256², bundle',
    '  mode, the node as its own process (`aigc node`). First all requests at once (throughput, CPU per mint), then as many at a fixed offered',
    '  rate (overhead percentiles). CPU from `/proc/<pid>/stat` before and after each run.',
    '- **arweave**: encoded sizes of a fixed set of renders and of the photos in `test/fixtures/photos`; uploads to arlocal.',
    '',
    ...(fs.existsSync(path.join(RESULTS, 'notes.md')) ? [fs.readFileSync(path.join(RESULTS, 'notes.md'), 'utf8').trim(), ''] : []),
  );
  fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), lines.join('\n'));
  written.push('BENCHMARKS.md');
  prettify(path.join(ROOT, 'BENCHMARKS.md'));
  return written;
}

/** Formats a written file as the repository's lint expects; formatting is cosmetic, so a failure is ignored. */
function prettify(file: string): void {
  try {
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'prettier'), ['--write', file], { stdio: 'ignore' });
  } catch {
    // cosmetic
  }
}

/** Reads bench/results/latest.json. */
export function readResults(): BenchResults {
  return JSON.parse(fs.readFileSync(path.join(RESULTS, 'latest.json'), 'utf8')) as BenchResults;
}

/** Writes bench/results/latest.json. */
export function writeResults(r: BenchResults): void {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, 'latest.json');
  fs.writeFileSync(file, `${JSON.stringify(r, null, 1)}\n`);
  prettify(file);
}
