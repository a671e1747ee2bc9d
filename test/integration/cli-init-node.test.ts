import { parse as parseYaml } from 'yaml';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { SignerKind } from '../../pipeline/chain/collection';
import { loadConfig } from '../../pipeline/config';
import { runCli, spawnCli } from '../helpers/cli';
import { requestMint } from '../helpers/mint';
import { type NodeFixture, startNodeFixture } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(240_000);

// From `aigc init-node` to a node that mints on the local stack, using only the written files and aigc commands.
// The compose file is parsed as a YAML document (the `yaml` package), not matched as text.
const yaml = { load: (text: string): unknown => parseYaml(text) };
const PASSWORD = 'correct horse battery staple';

let f: NodeFixture;
let dir: string;
beforeAll(async () => {
  f = await startNodeFixture();
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-init-node-')), 'my-node');
});
afterAll(() => f?.stop());

const run = (args: string[], env: Record<string, string> = {}, cwd = dir) =>
  runCli(args, { env: { ...process.env, ...env }, cwd: fs.existsSync(cwd) ? cwd : os.tmpdir(), timeoutMs: 120_000 });

it('writes the starter files; the compose file parses and has Redis without eviction, persistent', async () => {
  const result = await run(
    [
      'init-node',
      dir,
      '--yes',
      '--json',
      '--rpc',
      f.stack.anvil.rpcUrl,
      '--collection',
      String(f.collection.target),
      '--arweave',
      f.stack.arlocal.url,
    ],
    {},
    os.tmpdir(),
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).files).toEqual(
    ['.dockerignore', '.env.example', 'Dockerfile', 'README.md', 'aigc-node.service', 'compose.yaml', 'node.config.json'].sort(),
  );
  const compose = yaml.load(fs.readFileSync(path.join(dir, 'compose.yaml'), 'utf8')) as {
    services: Record<string, { command: string[]; depends_on?: object; volumes?: string[] }>;
  };
  expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'node', 'redis']);
  const redis = compose.services.redis.command.join(' ');
  expect(redis).toContain('--maxmemory-policy noeviction');
  expect(redis).toContain('--appendonly yes');
  expect(compose.services.node.command).toEqual(['node', '--config', '/srv/aigc/node.config.json']);
  expect(compose.services.gateway.command[0]).toBe('gateway');
  // The settings file is valid for the strict schema as written (its // comments included).
  const config = loadConfig({ file: path.join(dir, 'node.config.json'), env: {} });
  expect(config.collection.address).toBe(f.collection.target);
  expect(fs.readFileSync(path.join(dir, 'aigc-node.service'), 'utf8')).toContain(`WorkingDirectory=${dir}\n`);
  expect(fs.statSync(path.join(dir, 'secrets')).isDirectory()).toBe(true);
});

it('refuses to overwrite the files without --force, in one line', async () => {
  const again = await run(['init-node', dir, '--yes'], {}, os.tmpdir());
  expect(again.code).toBe(2);
  expect(again.stderr.trim().split('\n')).toHaveLength(1);
  expect(again.stderr).toMatch(/already has .*node\.config\.json.*: choose another folder or pass --force/);
});

describe('keys made with aigc wallet', () => {
  let signer: string;
  let arweaveAddress: string;

  it('writes an encrypted signer keystore and an Arweave wallet, mode 0600, and reads their balances', async () => {
    const made = await run(['wallet', 'signer', 'create', '--out', 'secrets/signer.json', '--json'], { AIGC_KEYSTORE_PASSWORD: PASSWORD });
    expect(made.code).toBe(0);
    signer = JSON.parse(made.stdout).address;
    expect(fs.statSync(path.join(dir, 'secrets/signer.json')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'secrets/signer.json'), 'utf8')).toMatch(/"ciphertext"/);
    expect(JSON.parse((await run(['wallet', 'signer', 'address', 'secrets/signer.json', '--json'])).stdout).address).toBe(signer);
    fs.writeFileSync(path.join(dir, 'secrets/signer.password'), PASSWORD, { mode: 0o600 });

    const ar = await run(['wallet', 'arweave', 'create', '--out', 'secrets/arweave-wallet.json', '--json']);
    expect(ar.code).toBe(0);
    arweaveAddress = JSON.parse(ar.stdout).address;
    expect(fs.statSync(path.join(dir, 'secrets/arweave-wallet.json')).mode & 0o777).toBe(0o600);
    expect((await run(['wallet', 'arweave', 'create', '--out', 'secrets/arweave-wallet.json'])).code).toBe(2);

    // Fund both on the local stack, as the quick-start says, and see it through aigc wallet … balance.
    await fetch(`${f.stack.arlocal.url}/mint/${arweaveAddress}/1000000000000000`);
    const funder = new Wallet(f.stack.anvil.privateKeys[0], f.provider);
    await (await funder.sendTransaction({ to: signer, value: 10n ** 18n })).wait();
    const arBalance = await run([
      'wallet',
      'arweave',
      'balance',
      'secrets/arweave-wallet.json',
      '--arweave',
      f.stack.arlocal.url,
      '--json',
    ]);
    expect(JSON.parse(arBalance.stdout)).toMatchObject({ address: arweaveAddress, ar: '1000' });
    const ethBalance = await run(['wallet', 'signer', 'balance', 'secrets/signer.json', '--rpc', f.stack.anvil.rpcUrl, '--json']);
    expect(JSON.parse(ethBalance.stdout)).toMatchObject({ address: signer, eth: '1.0', chainId: 31337 });
  });

  it('the node starts from the written config (the signer still unauthorised: one line), then mints once authorised', async () => {
    // The shipped template signs Content Credentials into every image: development ones, as the folder's README says.
    expect((await run(['credentials', 'init', '--out', 'secrets/c2pa'])).code).toBe(0);
    const env = {
      AIGC_C2PA_CERT: 'secrets/c2pa/c2pa-dev-cert.pem',
      AIGC_C2PA_KEY: 'secrets/c2pa/c2pa-dev-key.pem',
      REDIS_URL: f.redis.url,
      AIGC_GATEWAY_URL: f.stack.gatewayUrl,
      AIGC_HTTP_PORT: '0',
      AIGC_CONFIRMATIONS: '0',
      AIGC_POLL_INTERVAL_MS: '100',
      AIGC_START_BLOCK: String(f.deployBlock),
      LOG_LEVEL: 'silent',
    };
    const refused = await run(['node', '--config', 'node.config.json'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([
      `error: signer ${signer} is not authorised by collection ${f.collection.target} on chain 31337: its owner runs \`aigc admin set-signer ${signer}\``,
    ]);

    const owner = new Wallet(f.stack.anvil.privateKeys[0], f.provider);
    await (await f.collection.connect(owner).getFunction('setSigner')(signer, SignerKind.OPERATOR, `0x${'0'.repeat(64)}`, signer)).wait();

    const { child, output, exited } = spawnCli(['node', '--config', 'node.config.json'], { cwd: dir, env: { ...process.env, ...env } });
    try {
      await until('the node runs', () => output().includes('node running for') || child.exitCode !== null, 120_000);
      expect(output()).toContain('node running for');
      const request = await requestMint(f.collection, new Wallet(f.stack.anvil.privateKeys[3], f.provider), 'a lighthouse at dusk');
      await until('the token is minted', async () => (await f.collection.tokenURI(request.requestId).catch(() => '')) !== '', 120_000);
      expect(await f.collection.tokenURI(request.requestId)).toMatch(/^ar:\/\//);
    } finally {
      child.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    }
  });
});
