import { type ChildProcess, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, spawnCli } from '../helpers/cli';
import { until } from '../helpers/wait';

jest.setTimeout(120_000);

// `aigc gateway` and `aigc arlocal`: the services an operator runs, as commands with --help, flags and one-line errors.
const KEY = 'gateway-test-key-0123456789';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-cli-gateway-'));

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...process.env, ...env }, timeoutMs: 60_000 });

/** Spawns a long-running command and resolves with the first http URL it prints. */
async function serve(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const { child, output, exited } = spawnCli(args, { env: { ...process.env, ...env } });
  await until('it listens', () => /http:\/\/[\d.]+:\d+/.test(output()) || child.exitCode !== null, 60_000);
  const url = /http:\/\/[\d.]+:\d+/.exec(output())?.[0];
  if (!url) throw new Error(`no URL in: ${output()}`);
  return { child, url, exited: exited.then((e) => e.code) };
}

describe('aigc gateway', () => {
  it('--help shows its flags and examples instead of starting a server', async () => {
    const help = await run(['gateway', '--help']);
    expect(help.code).toBe(0);
    for (const text of ['--backend <name>', '--backend-url <url>', '--api-keys <keys>', '--port <n>', 'Examples:', '$ aigc gateway'])
      expect(help.stdout).toContain(text);
  });

  it('the standalone entry (npm run gateway) answers --help instead of starting a server', async () => {
    const main = path.resolve(__dirname, '../../dist/services/diffusion-gateway/main.js');
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [main, '--help'], { timeout: 30_000 }, (_e, stdout) =>
        resolve({ code: child.exitCode, stdout }),
      );
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('aigc gateway --help');
  });

  it('--check validates flags over env and file and prints the settings with keys hidden', async () => {
    const file = path.join(dir, 'gateway.json');
    fs.writeFileSync(file, JSON.stringify({ limits: { concurrency: 3 } }));
    const result = await run(
      ['gateway', '--config', file, '--check', '--backend', 'cog', '--backend-url', 'http://gpu:5000', '--api-keys', 'env:KEYS'],
      {
        KEYS: KEY,
        GATEWAY_PORT: '9000',
      },
    );
    expect(result.stderr).toBe('');
    const config = JSON.parse(result.stdout);
    expect(config).toMatchObject({
      port: 9000,
      apiKeys: ['***'],
      backend: { name: 'cog', url: 'http://gpu:5000' },
      limits: { concurrency: 3 },
    });
  });

  it('one line for a misspelt key in its file, a bad env value and a missing key variable', async () => {
    const file = path.join(dir, 'typo.json');
    fs.writeFileSync(file, JSON.stringify({ limits: { concurency: 3 } }));
    const typo = await run(['gateway', '--config', file, '--check']);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim().split('\n')).toEqual([
      'error: invalid gateway config: unknown setting limits.concurency (did you mean limits.concurrency?)',
    ]);
    const port = await run(['gateway', '--check'], { GATEWAY_PORT: 'eighty' });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/^error: invalid gateway config: port \(GATEWAY_PORT\): /);
    const missing = await run(['gateway', '--check', '--api-keys', 'env:NOT_SET_ANYWHERE']);
    expect(missing.stderr.trim()).toBe('error: --api-keys env:NOT_SET_ANYWHERE: the variable NOT_SET_ANYWHERE is not set');
  });

  it('serves with its API keys and stops on SIGTERM', async () => {
    const { child, url, exited } = await serve(['gateway', '--port', '0', '--api-keys', 'env:KEYS'], { KEYS: KEY });
    try {
      expect((await fetch(`${url}/v1/models`)).status).toBe(401);
      expect((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

describe('aigc arlocal', () => {
  it('runs the patched arlocal, which says it takes chunks in any order, until SIGTERM', async () => {
    const { child, url, exited } = await serve(['arlocal', '--port', '0', '--data-dir', path.join(dir, 'arlocal')]);
    try {
      const info = (await (await fetch(`${url}/info`)).json()) as { network: string; chunk_placement?: string };
      expect(info.network).toMatch(/^arlocal/);
      expect(info.chunk_placement).toBe('offset');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(dir, 'arlocal'))).toBe(true);
  });
});
