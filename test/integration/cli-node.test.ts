import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../pipeline/embedded/ports';
import { spawnRedisServer } from '../../pipeline/embedded/redis';
import { runCli, spawnCli } from '../helpers/cli';
import { type NodeFixture, startNodeFixture } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(180_000);

// `aigc node` as an operator runs it: the built binary as a child process. Whatever state Redis is in, a start that
// cannot work ends in one line, and SIGTERM always ends the process (its own deadline is --stop-timeout, 8 s).
let f: NodeFixture;
beforeAll(async () => {
  f = await startNodeFixture();
});
afterAll(() => f?.stop());

const run = (args: string[], env: Record<string, string>) => runCli(args, { env: { ...process.env, ...env }, timeoutMs: 90_000 });

/** Starts `aigc node`, resolves once it prints that it runs. */
async function startCli(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const { child, output, exited } = spawnCli(['node'], { env: { ...process.env, ...env } });
  await until('the node runs', () => output().includes('node running for') || child.exitCode !== null, 90_000);
  expect(output()).toContain('node running for');
  return { child, output, exited: exited.then((e) => e.code) };
}

/** Waits for the process to end after SIGTERM; a process that outlives 60 s fails the test (and is killed). */
async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  child.kill('SIGTERM');
  const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000).unref());
  const result = await Promise.race([exited, hung]);
  if (result === 'hung') child.kill('SIGKILL');
  expect(result).not.toBe('hung');
  return result as number | null;
}

it('with Redis down: one line naming Redis and REDIS_URL, exit code 3', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const result = await run(['node'], { ...f.env(), REDIS_URL: url, LOG_LEVEL: 'silent' });
  expect(result.code).toBe(3);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toEqual([`error: Redis at ${url} does not answer: start it or set REDIS_URL`]);
});

it('with Redis up: stops on SIGTERM and exits 0', async () => {
  const { child, exited, output } = await startCli({ ...f.env(), LOG_LEVEL: 'silent' });
  expect(await terminate(child, exited)).toBe(0);
  expect(output()).toContain('SIGTERM: stopping');
});

it('with Redis gone while it runs: SIGTERM still ends it, naming what it waited for if anything', async () => {
  const redis = await spawnRedisServer();
  try {
    const { child, exited, output } = await startCli({ ...f.env(), REDIS_URL: redis.url, LOG_LEVEL: 'silent' });
    await redis.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    const code = await terminate(child, exited);
    if (code !== 0) expect(output()).toMatch(/error: the node did not stop within 8 s \(still waiting for [^)]+\): exiting anyway/);
  } finally {
    await redis.stop();
  }
});

it('a missing config file and a misspelt key each end in one line, exit code 2', async () => {
  const missing = await run(['node', '--config', path.join(f.dataDir, 'none.json')], {});
  expect(missing.code).toBe(2);
  expect(missing.stderr.trim().split('\n')).toEqual([
    `error: config file ${path.join(f.dataDir, 'none.json')} does not exist: write one with \`aigc init-node <dir>\` or fix --config`,
  ]);
  const file = path.join(f.dataDir, 'typo.json');
  fs.writeFileSync(file, JSON.stringify({ colection: { address: f.collection.target } }));
  const typo = await run(['node', '--config', file], {});
  expect(typo.code).toBe(2);
  expect(typo.stderr.trim().split('\n')).toEqual([
    `error: invalid configuration: unknown setting colection in ${file} (did you mean collection?)`,
  ]);
});
