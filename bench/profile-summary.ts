import fs from 'node:fs';

/** A V8 CPU profile (`node --cpu-prof`), the fields read here. */
type CpuProfile = {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
};

/** Stages of the node, by the pipeline module nearest the top of a sample's stack (first match wins). */
const STAGES: [string, RegExp][] = [
  ['intake: chain events → jobs', /pipeline\/(chain\/(listener|event-decoder|request|reconcile)|runtime\/intake|requests\/)/],
  ['generate stage: gateway call, image kept in Redis', /pipeline\/(gateway-client|queue\/generate)/],
  ['Arweave: sign items, bundle, upload', /pipeline\/storage\//],
  ['provenance: digests, signatures', /pipeline\/(provenance|crypto|attest|credentials)\//],
  [
    'fulfil: batch, sign, send, receipts',
    /pipeline\/(chain\/(fulfiller|tx-sender|pending-reads|raw-rpc|json-rpc-transport)|queue\/fulfill)/,
  ],
  ['HTTP client', /pipeline\/net\//],
];
/** Libraries, for samples with no pipeline frame on their stack (callbacks of sockets, timers, promises). */
const LIBRARIES: [string, RegExp][] = [
  ['queues: Redis and BullMQ', /node_modules\/(ioredis|bullmq)\//],
  ['chain library (ethers)', /node_modules\/(ethers|@noble|@adraffy)\//],
  ['Arweave libraries', /node_modules\/(arbundles|@irys|arweave)\//],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|thread-stream)\//],
];
const START_UP = /node:internal\/modules|^\(program\)$/;

/**
 * Where a process's CPU went, in ms per unit of work (mints), by stage of the pipeline: each sample counts once, for
 * the pipeline module nearest the top of its stack, else the library that runs it, else Node's runtime (sockets,
 * streams, timers) or the garbage collector. Module loading at start-up is reported apart.
 */
export function summariseProfile(file: string, units: number): { stage: string; ms: number; msPerUnit: number; share: number }[] {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const totals = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(idle)') continue;
    const stack: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      stack.push(f.url || f.functionName);
    }
    let stage: string | undefined;
    if (leaf.functionName === '(garbage collector)') stage = 'garbage collector';
    else if (stack.some((s) => START_UP.test(s))) stage = 'start-up (loading modules)';
    for (const frame of stage ? [] : stack) {
      stage = STAGES.find(([, re]) => re.test(frame))?.[0];
      if (stage) break;
    }
    stage ??= LIBRARIES.find(([, re]) => stack.some((s) => re.test(s)))?.[0] ?? 'Node runtime (sockets, streams, timers)';
    totals.set(stage, (totals.get(stage) ?? 0) + us);
  }
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([stage, us]) => ({
      stage,
      ms: Math.round(us / 1_000),
      msPerUnit: Number((us / 1_000 / Math.max(1, units)).toFixed(2)),
      share: Number(((100 * us) / all).toFixed(1)),
    }));
}

/** The summary as a Markdown table. */
export function profileTable(rows: ReturnType<typeof summariseProfile>, unit: string): string {
  return [
    `| stage | CPU ms | ms / ${unit} | share |`,
    '| :- | -: | -: | -: |',
    ...rows.map((r) => `| ${r.stage} | ${r.ms.toLocaleString('en-US')} | ${r.msPerUnit} | ${r.share} % |`),
  ].join('\n');
}

if (require.main === module) {
  const [file, units = '1'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js <node.cpuprofile> <mints>');
    process.exit(2);
  }
  console.log(profileTable(summariseProfile(file, Number(units)), 'mint'));
}
