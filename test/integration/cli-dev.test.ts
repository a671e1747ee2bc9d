import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider } from 'ethers';
import { type DevState, devStateSchema } from '../../pipeline/cli/project';
import { type CliProcess, runCli, spawnCli } from '../helpers/cli';
import { until } from '../helpers/wait';

jest.setTimeout(240_000);

// A creator's path as README tells it, with the built binary: init a folder, keep `aigc dev` up in the background,
// mint and verify from the folder with no flags, edit collection.json, stop with Ctrl-C.
const aigc = (cwd: string, ...args: string[]) =>
  runCli(args, {
    cwd,
    env: { ...process.env, AIGC_MINT_KEY: '', AIGC_RPC_URL: '', AIGC_COLLECTION: '', AIGC_NODE_URL: '', AIGC_ARWEAVE_URL: '' },
    timeoutMs: 120_000,
  });

let work: string;
let folder: string;
let devProcess: CliProcess;
let dev: CliProcess['child'];
let exited: CliProcess['exited'];
const readState = (): DevState => devStateSchema.parse(JSON.parse(fs.readFileSync(path.join(folder, '.aigc', 'dev.json'), 'utf8')));

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-dev-'));
  expect((await aigc(work, 'init', 'fox-club', '--yes', '--name', 'Fox Club', '--symbol', 'FOX')).code).toBe(0);
  folder = path.join(work, 'fox-club');
  // Its own process group: after it exits, nothing it started may be left in that group.
  devProcess = spawnCli(['dev'], { cwd: folder, detached: true });
  ({ child: dev, exited } = devProcess);
  await until(
    'aigc dev is up',
    () => (fs.existsSync(path.join(folder, '.aigc', 'dev.json')) && devProcess.stderr().includes('node running')) || dev.exitCode !== null,
    120_000,
  );
  expect({ exitCode: dev.exitCode, devErr: devProcess.stderr() }).toEqual({
    exitCode: null,
    devErr: expect.stringContaining('node running'),
  });
});

afterAll(async () => {
  if (dev?.exitCode === null) process.kill(-dev.pid!, 'SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

describe('aigc dev', () => {
  it('writes .aigc/dev.json with every URL and funded accounts', async () => {
    const state = readState();
    expect(state.pid).toBe(dev.pid);
    expect(state.accounts.map((a) => a.role).slice(0, 3)).toEqual(['deployer', 'operator', 'collector']);
    const provider = new JsonRpcProvider(state.rpcUrl, undefined, { staticNetwork: true });
    expect(Number((await provider.getNetwork()).chainId)).toBe(state.chainId);
    expect(await provider.getCode(state.collection)).not.toBe('0x');
    provider.destroy();
    for (const url of [`${state.nodeUrl}/healthz`, `${state.arweaveUrl}/info`, `${state.gatewayUrl}/healthz`])
      expect((await fetch(url)).status).toBe(200);
  });

  it('serves the mint page of the collection at mintPageUrl', async () => {
    const state = readState();
    expect(state.mintPageUrl).toBe(`${state.nodeUrl}/mint/${state.chainId}/${state.collection}?rpc=${encodeURIComponent(state.rpcUrl)}`);
    const page = await (await fetch(state.mintPageUrl!)).text();
    expect(page).toContain(`<aigc-mint collection="${state.collection}" chain-id="${state.chainId}" rpc="${state.rpcUrl}">`);
    expect((await fetch(`${state.nodeUrl}/embed.js`)).status).toBe(200);
  });

  it('mints and verifies from the folder with no flags', async () => {
    const minted = await aigc(folder, 'mint', 'a red fox', '--wait', '--json', '--out', 'fox.png');
    expect({ code: minted.code, stderr: minted.stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(minted.stdout) as { tokenId: string; owner: string; verified: boolean; imagePath: string };
    expect(result.verified).toBe(true);
    expect(result.owner).toBe(readState().accounts.find((a) => a.role === 'collector')!.address);
    expect(fs.readFileSync(path.join(folder, 'fox.png')).subarray(1, 4).toString()).toBe('PNG');

    const verified = await aigc(folder, 'verify', result.tokenId);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/\nverified\n$/);
  });

  it('redeploys when collection.json changes, and keeps serving when the edit is invalid', async () => {
    const file = path.join(folder, 'collection.json');
    const before = readState().collection;
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; mint: { priceWei: string } };
    fs.writeFileSync(
      file,
      JSON.stringify({ ...json, name: 'Fox Club II', mint: { ...json.mint, priceWei: '20000000000000000' } }, null, 2),
    );
    await until('the redeploy', () => readState().collection !== before, 60_000);
    const after = readState();
    expect(after.nodeUrl).toBe(readState().nodeUrl);
    const minted = await aigc(folder, 'mint', 'a fox in the snow', '--wait', '--json');
    expect(minted.code).toBe(0);
    expect(JSON.parse(minted.stdout)).toMatchObject({ verified: true });

    fs.writeFileSync(file, JSON.stringify({ ...json, mint: { ...json.mint, maxSupply: 0 } }, null, 2));
    await until('the invalid edit is reported', () => /not valid, still serving/.test(devProcess.stderr()), 30_000);
    expect(devProcess.stderr()).toMatch(/mint\.maxSupply/);
    expect(readState().collection).toBe(after.collection);
    // Back to what is deployed: the same template, so no redeploy.
    fs.writeFileSync(
      file,
      JSON.stringify({ ...json, name: 'Fox Club II', mint: { ...json.mint, priceWei: '20000000000000000' } }, null, 2),
    );
  });

  it('manages the live collection from the folder: admin pause refuses the next mint in one line, status reads it', async () => {
    const paused = await aigc(folder, 'admin', 'pause');
    expect(paused.code).toBe(0);
    const refused = await aigc(folder, 'mint', 'a fox at night', '--wait');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: requestMint refused: AIGCPaused: /)]);
    expect((await aigc(folder, 'admin', 'unpause')).code).toBe(0);

    const status = await aigc(folder, 'status', '--json');
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(JSON.stringify(report)).toContain(readState().collection);
  });

  it('deploys onto the dev chain with no flags, reusing its factory', async () => {
    const state = readState();
    const deployed = await aigc(folder, 'deploy', '--json', '--no-contract-uri');
    expect({ code: deployed.code, stderr: deployed.stderr.split('\n').filter((l) => l.startsWith('error')) }).toEqual({
      code: 0,
      stderr: [],
    });
    const record = JSON.parse(deployed.stdout) as { chainId: number; collection: string; factory: string; factoryDeployed: boolean };
    expect(record).toMatchObject({ chainId: state.chainId, factory: state.factory, factoryDeployed: false });
    expect(record.collection).not.toBe(state.collection);
    expect(fs.existsSync(path.join(folder, 'deployments', `${state.chainId}.json`))).toBe(true);
  });

  it('stops on SIGINT: exit 0 within 10 s, no process left, dev.json removed', async () => {
    const { rpcUrl } = readState();
    const sent = Date.now();
    process.kill(dev.pid!, 'SIGINT');
    const { code } = await exited;
    expect(code).toBe(0);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(() => process.kill(-dev.pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(fs.existsSync(path.join(folder, '.aigc', 'dev.json'))).toBe(false);
    await expect(fetch(rpcUrl, { method: 'POST' })).rejects.toThrow();
  });
});
