#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run as arweave } from './arweave';
import { run as gas } from './gas';
import { benchGateway } from './gateway';
import { run as pipeline } from './pipeline';
import { summariseProfile } from './profile-summary';
import { run as web2Load } from './web2-load';
import { type BenchResults, machine, median, readResults, writeReport, writeResults } from './report';

/**
 * `npm run bench -- [name …]`: runs the named benchmarks; each prints one JSON line on stdout. With no name, runs them
 * all (the pipeline over a sweep of settings, each in its own process), writes bench/results/latest.json and the
 * report (BENCHMARKS.md and its SVG plots); `report` regenerates the report from latest.json alone. Benchmarks
 * measure; they do not pass or fail on a number.
 */
const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  gas,
  gateway: benchGateway,
  pipeline,
  arweave,
  // Named only: a correctness run under faults (see docs/load-test.md), not part of the report.
  'web2-load': web2Load,
};

/** Gateway runs of the full report (the median is reported). */
const GATEWAY_RUNS = Number(process.env.BENCH_GATEWAY_RUNS ?? 5);
/** Pipeline settings of the full report: generate concurrency × node processes (BENCH_REQUESTS requests each). */
const PIPELINE_SWEEP = (process.env.BENCH_SWEEP ?? '8x1,32x1,64x1,64x2').split(',').map((s) => {
  const [concurrency, processes] = s.split('x');
  return { BENCH_GENERATE_CONCURRENCY: concurrency, BENCH_NODE_PROCESSES: processes ?? '1' };
});

/** Runs of each pipeline setting; the report gives their median and range. */
const PIPELINE_RUNS = Number(process.env.BENCH_PIPELINE_RUNS ?? 5);
/** Figures of a pipeline run whose spread across runs the report shows. */
const SPREAD = ['mintsPerSec', 'nodeCpuMsPerMint', 'gatewayCpuMsPerRender', 'overheadP50Ms', 'overheadP99Ms'] as const;

/**
 * The runs of one setting as one entry: each figure of {@link SPREAD} is the median of the runs, with `spread` giving
 * every run's value; the rest (the overhead samples for the plot) comes from the run whose mints/s is the median.
 */
function medianRun(runs: Record<string, unknown>[]): Record<string, unknown> {
  const byRate = [...runs].sort((a, b) => Number(a.mintsPerSec) - Number(b.mintsPerSec));
  const middle = byRate[Math.floor(byRate.length / 2)];
  return {
    ...middle,
    ...Object.fromEntries(SPREAD.map((k) => [k, median(runs.map((r) => Number(r[k])))])),
    runs: runs.length,
    spread: Object.fromEntries(SPREAD.map((k) => [k, runs.map((r) => Number(r[k]))])),
  };
}

/** One pipeline run in its own process (its settings are read from the environment at start-up). */
function pipelineIn(env: Record<string, string>): Record<string, unknown> {
  const out = spawnSync(process.execPath, [__filename, 'pipeline'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (out.status !== 0) throw new Error(`pipeline bench (${JSON.stringify(env)}) exited with ${out.status}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !BENCHES[n] && n !== 'report');
  if (unknown.length) {
    console.error(`error: unknown benchmark ${unknown.join(', ')}; available: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  if (names.length === 1 && names[0] === 'report') {
    console.error(`wrote ${(await writeReport(readResults())).join(', ')}`);
    process.exit(0);
  }
  if (names.length) {
    for (const name of names) console.log(JSON.stringify(await BENCHES[name]()));
    process.exit(process.exitCode ?? 0); // a benchmark that also checks invariants sets exitCode when one broke
  }
  const results: BenchResults = { machine: machine() };
  const line = (r: Record<string, unknown>) => {
    console.log(JSON.stringify(r));
    return r;
  };
  results.gas = line(await gas());
  results.arweave = line(await arweave());
  results.gateway = [];
  for (let i = 0; i < GATEWAY_RUNS; i++) results.gateway.push(line(await benchGateway()));
  results.pipeline = [];
  for (const setting of PIPELINE_SWEEP) {
    const runs = Array.from({ length: PIPELINE_RUNS }, () => pipelineIn(setting));
    results.pipeline.push(line(medianRun(runs)));
  }
  results.web2Load = line((await web2Load()) as unknown as Record<string, unknown>);
  // One more run of the default setting under V8's profiler: where the node's CPU goes, stage by stage.
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-profile-'));
  const profiled = pipelineIn({ BENCH_PROFILE_DIR: profileDir, BENCH_LATENCY_RATE: '0' });
  const rows = summariseProfile(path.join(profileDir, 'node.cpuprofile'), Number(profiled.minted));
  results.profile = { mints: Number(profiled.minted), nodeCpuMsPerMint: Number(profiled.nodeCpuMsPerMint), stages: rows };
  writeResults(results);
  console.error(`wrote bench/results/latest.json, ${(await writeReport(results)).join(', ')}`);
  process.exit(0);
}

main().catch((error) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
