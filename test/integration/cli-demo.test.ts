import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEV_CREDENTIAL_FILES } from '../../pipeline/credentials/dev-ca';
import { findLeaks, logFilesUnder, stackSecrets } from '../helpers/secret-scan';

// `aigc demo` as users run it: the compiled CLI (run `npm run build` first), its own local stack, a 100-column terminal.
jest.setTimeout(240_000);

const CLI = path.resolve(__dirname, '../../dist/pipeline/cli/index.js');
const PROMPTS = ['a fox asleep in fresh snow', 'ein Leuchtturm im Nebel 🌫'];

test('mints the given prompts, writes their images where the user can open them, and fits the table in COLUMNS', async () => {
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-demo-cli-')), 'demo');
  const args = [CLI, 'demo', '--count', '2', ...PROMPTS.flatMap((p) => ['--prompt', p]), '--data-dir', dataDir];
  const run = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, COLUMNS: '100' } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  if (run.status !== 0) throw new Error(`aigc demo exited ${run.status}\n${run.stdout}\n${run.stderr}`);

  const images = path.join(dataDir, 'images');
  expect(fs.readdirSync(images).sort()).toEqual(['1.png', '2.png']);
  for (const file of ['1.png', '2.png']) {
    const bytes = fs.readFileSync(path.join(images, file));
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a'); // a PNG
    expect(run.stdout).toContain(path.relative(process.cwd(), path.join(images, file)));
  }
  expect(run.stdout).toContain(`images in ${images}`);

  // The table: between the blank lines after the mints, every line within 100 columns, every prompt in it.
  const table = run.stdout.slice(run.stdout.indexOf('\n\ntoken ') + 2, run.stdout.lastIndexOf('\n\n'));
  expect(table).toMatch(/^token 1\n/);
  for (const line of table.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
  for (const prompt of PROMPTS) expect(table).toContain(prompt);
  expect(table.match(/provenance\s+verified/g)).toHaveLength(2);

  const result = JSON.parse(fs.readFileSync(path.join(dataDir, 'result.json'), 'utf8')) as { rows: { prompt: string }[] };
  expect(result.rows.map((r) => r.prompt).sort()).toEqual([...PROMPTS].sort());

  // No key material in any line it logged: its output, and the node's log file (and any other log) in its folder.
  const logs = [{ source: 'stdout', text: run.stdout }, { source: 'stderr', text: run.stderr }, ...logFilesUnder(dataDir)];
  expect(logs.find((l) => l.source === 'node.log')?.text).toMatch(/"msg":"node started"/);
  const secrets = stackSecrets({
    arweaveWalletPath: path.join(dataDir, 'arweave-wallet.json'),
    c2paKeyPath: path.join(dataDir, 'credentials', DEV_CREDENTIAL_FILES.key),
  });
  expect(findLeaks(logs, secrets)).toEqual([]);
});
