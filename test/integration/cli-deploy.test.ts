import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type JsonRpcProvider, parseEther, Wallet } from 'ethers';
import { connectCollection, SignerKind } from '../../pipeline/chain/collection';
import { createProvider } from '../../pipeline/chain/provider';
import { collectionReads } from '../../pipeline/chain/typed-reads';
import { deploymentSchema } from '../../pipeline/cli/project';
import { type Anvil, startAnvil } from '../../pipeline/embedded/anvil';
import { type ArlocalHandle, startArlocal } from '../../pipeline/embedded/arlocal';
import { arweaveClient, loadWallet } from '../../pipeline/storage/arweave';
import { loadTemplate } from '../../pipeline/template';
import { runCli } from '../helpers/cli';

jest.setTimeout(180_000);

// `aigc deploy` and `aigc admin` as users run them: the built binary (npm run build first), against an anvil started
// separately and passed with --rpc, keys in environment variables, from a folder made by `aigc init`.
let work: string;
let folder: string;
let anvil: Anvil;
let arlocal: ArlocalHandle;
let provider: JsonRpcProvider;
let arweaveWallet: string;
const keys: Record<string, string> = {};

const aigc = (args: string[], { cwd = folder, env = {} }: { cwd?: string; env?: Record<string, string> } = {}) =>
  runCli(args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...keys, ...env }, timeoutMs: 150_000 });

const lines = (text: string) => text.trim().split('\n').filter(Boolean);
const deploymentFile = () => path.join(folder, 'deployments', '31337.json');
const readDeployment = () => deploymentSchema.parse(JSON.parse(fs.readFileSync(deploymentFile(), 'utf8')));

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-deploy-'));
  [anvil, arlocal] = await Promise.all([startAnvil(), startArlocal({ dbPath: path.join(work, 'arlocal') })]);
  provider = createProvider(anvil.rpcUrl, 100);
  keys.OWNER_KEY = anvil.privateKeys[0];
  keys.STRANGER_KEY = anvil.privateKeys[5];
  arweaveWallet = path.join(work, 'arweave-wallet.json');
  const address = await arweaveClient(arlocal.url).wallets.jwkToAddress(await loadWallet(arweaveWallet, { create: true }));
  await fetch(`${arlocal.url}/mint/${address}/1000000000000000`);
  const init = await aigc(['init', 'my-collection', '--yes'], { cwd: work });
  expect(init).toMatchObject({ code: 0, stderr: '' });
  folder = path.join(work, 'my-collection');
});

afterAll(async () => {
  provider?.destroy();
  await Promise.all([anvil?.stop(), arlocal?.stop()]);
  fs.rmSync(work, { recursive: true, force: true });
});

const owner = () => new Wallet(keys.OWNER_KEY).address;
const operator = () => new Wallet(anvil.privateKeys[1]).address;
const PAYEE = '0x000000000000000000000000000000000000dEaD';

describe('aigc deploy', () => {
  it('--dry-run prints the plan and its cost and sends nothing', async () => {
    const nonce = await provider.getTransactionCount(owner());
    const run = await aigc(['deploy', '--rpc', anvil.rpcUrl, '--key', 'env:OWNER_KEY', '--arweave', arlocal.url, '--dry-run', '--json']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const plan = JSON.parse(run.stdout) as {
      dryRun: boolean;
      steps: { action: string }[];
      costWei: string;
      funded: boolean;
      mintQuote: { count: number } | null;
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.steps.map((s) => s.action)).toEqual([
      'deploy-implementation',
      'deploy-factory',
      'skip-contract-uri',
      'create-collection',
      'write',
    ]);
    expect(BigInt(plan.costWei)).toBeGreaterThan(0n);
    expect(plan.funded).toBe(true);
    expect(plan.mintQuote?.count).toBe(loadTemplate(path.join(folder, 'collection.json')).mint.maxSupply);
    expect(await provider.getTransactionCount(owner())).toBe(nonce);
    expect(fs.existsSync(deploymentFile())).toBe(false);

    const human = await aigc(['deploy', '--rpc', anvil.rpcUrl, '--key', 'env:OWNER_KEY', '--dry-run', '--no-contract-uri']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Deploy cost: up to [\d.]+ ETH/);
    expect(await provider.getTransactionCount(owner())).toBe(nonce);
  });

  it('refuses an unfunded key in one line, sending nothing', async () => {
    const fresh = Wallet.createRandom();
    const run = await aigc(['deploy', '--rpc', anvil.rpcUrl, '--key', 'env:FRESH_KEY'], { env: { FRESH_KEY: fresh.privateKey } });
    expect(run.code).not.toBe(0);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(
      new RegExp(`^error: ${fresh.address} has 0\\.0 ETH on chain 31337; deploying needs up to [\\d.]+ ETH .*fund it`),
    );
    expect(await provider.getTransactionCount(fresh.address)).toBe(0);
    expect(fs.existsSync(deploymentFile())).toBe(false);
  });

  it('refuses another chain id than --chain-id in one line', async () => {
    const run = await aigc(['deploy', '--rpc', anvil.rpcUrl, '--key', 'env:OWNER_KEY', '--chain-id', '8453']);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([`error: ${anvil.rpcUrl} is chain 31337, not 8453 (--chain-id): check --rpc`]);
  });

  it('refuses a chain without the Cancun opcodes in one line', async () => {
    const old = await startAnvil({ hardfork: 'shanghai' });
    try {
      const run = await aigc(['deploy', '--rpc', old.rpcUrl, '--key', 'env:OWNER_KEY']);
      expect(run.code).not.toBe(0);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toMatch(/^error: this chain does not run Cancun opcodes/);
    } finally {
      await old.stop();
    }
  });

  it('deploys: factory, collection owned by the deployer, signer with its payee, contractURI on Arweave; writes deployments/', async () => {
    const run = await aigc([
      'deploy',
      '--rpc',
      anvil.rpcUrl,
      '--key',
      'env:OWNER_KEY',
      '--signer',
      operator(),
      '--payee',
      PAYEE,
      '--arweave',
      arlocal.url,
      '--arweave-wallet',
      arweaveWallet,
      '--json',
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const printed = JSON.parse(run.stdout) as { collection: string; factoryDeployed: boolean; file: string };
    expect(printed.factoryDeployed).toBe(true);
    expect(printed.file).toBe(path.join('deployments', '31337.json'));

    const d = readDeployment();
    expect(d).toMatchObject({ chainId: 31337, collection: printed.collection, owner: owner(), signer: operator(), payee: PAYEE });
    expect(await provider.getCode(d.collection)).not.toBe('0x');
    expect(await provider.getCode(d.factory)).not.toBe('0x');
    const reads = collectionReads(connectCollection(d.collection, provider));
    expect(await reads.owner()).toBe(owner());
    const [kind, , , payee] = await reads.signerInfo(operator());
    expect(Number(kind)).toBe(SignerKind.OPERATOR);
    expect(payee).toBe(PAYEE);
    const contractURI = await reads.contractURI();
    expect(contractURI).toMatch(/^ar:\/\/[A-Za-z0-9_-]{43}$/);
    expect(d.contractURI).toBe(contractURI);
    const manifest = (await (await fetch(`${arlocal.url}/${contractURI.slice('ar://'.length)}`)).json()) as { name: string };
    expect(manifest.name).toBe(loadTemplate(path.join(folder, 'collection.json')).name);
    const [config] = await reads.mintConfig();
    expect(config.price).toBe(BigInt(loadTemplate(path.join(folder, 'collection.json')).mint.priceWei));
    expect((await provider.getBlock(d.blockNumber))!.number).toBe(d.blockNumber);
  });

  it('a second deploy needs --force, then reuses the factory (one transaction)', async () => {
    const first = readDeployment();
    const refused = await aigc(['deploy', '--rpc', anvil.rpcUrl, '--key', 'env:OWNER_KEY']);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toHaveLength(1);
    expect(refused.stderr).toMatch(/already records collection .* pass --force/);

    const nonce = await provider.getTransactionCount(owner());
    // Without --signer, the signer is the address of the node's key variable, AIGC_SIGNER_KEY.
    const nodeKey = anvil.privateKeys[3];
    const run = await aigc(['deploy', '--rpc', anvil.rpcUrl, '--key', 'env:OWNER_KEY', '--force', '--no-contract-uri', '--json'], {
      env: { AIGC_SIGNER_KEY: nodeKey },
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ factoryDeployed: false, factory: first.factory });
    const second = readDeployment();
    expect(second).toMatchObject({ factory: first.factory, implementation: first.implementation, owner: owner() });
    expect(second).toMatchObject({ signer: new Wallet(nodeKey).address, payee: new Wallet(nodeKey).address });
    expect(second.collection).not.toBe(first.collection);
    expect(second.contractURI).toBeUndefined();
    expect(await provider.getTransactionCount(owner())).toBe(nonce + 1);
    expect(await provider.getCode(second.collection)).not.toBe('0x');
  });
});

// Inside the folder: the collection comes from deployments/31337.json, the owner's key from AIGC_OWNER_KEY.
describe('aigc admin', () => {
  const asOwner = (args: string[]) => aigc(['admin', ...args], { env: { AIGC_OWNER_KEY: keys.OWNER_KEY } });
  const reads = () => collectionReads(connectCollection(readDeployment().collection, provider));

  it('pause then unpause, each read back from the chain', async () => {
    const paused = await asOwner(['pause', '--json']);
    expect(paused).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(paused.stdout)).toMatchObject({ action: 'pause', paused: true, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(await reads().paused()).toBe(true);

    const unpaused = await asOwner(['unpause']);
    expect(unpaused.code).toBe(0);
    expect(unpaused.stdout).toMatch(/^unpause: minting is open \(tx 0x[0-9a-f]{64}, block \d+\)/);
    expect(await reads().paused()).toBe(false);
  });

  it('set-price, set-window and set-supply change only their setting', async () => {
    const [before, limit] = await reads().mintConfig();
    const price = await asOwner(['set-price', '0.02', '--json']);
    expect(price).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(price.stdout)).toMatchObject({ priceWei: parseEther('0.02').toString() });

    const window = await asOwner(['set-window', 'now', '2030-01-01T00:00:00Z', '--json']);
    expect(window.code).toBe(0);
    expect(JSON.parse(window.stdout)).toMatchObject({ mintStart: 0, mintEnd: Date.parse('2030-01-01T00:00:00Z') / 1000 });

    const supply = await asOwner(['set-supply', '321', '--json']);
    expect(JSON.parse(supply.stdout)).toMatchObject({ maxSupply: 321 });

    const [after, limitAfter] = await reads().mintConfig();
    expect(after.price).toBe(parseEther('0.02'));
    expect(after.mintEnd).toBe(BigInt(Date.parse('2030-01-01T00:00:00Z') / 1000));
    expect(after.maxSupply).toBe(321n);
    expect([after.maxPromptBytes, after.refundDelay, limitAfter]).toEqual([before.maxPromptBytes, before.refundDelay, limit]);
  });

  it("a key that is not the owner's gets the contract's error in one line, and nothing changes", async () => {
    const [before] = await reads().mintConfig();
    const run = await aigc(['admin', 'set-price', '0.5', '--key', 'env:STRANGER_KEY']);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([
      `error: set-price refused: OwnableUnauthorizedAccount: ${new Wallet(keys.STRANGER_KEY).address} is not the owner of this collection: sign with the owner's key (--key env:NAME)`,
    ]);
    expect((await reads().mintConfig())[0].price).toBe(before.price);
  });

  it('set-signer with a payee, revoke-signer, and set-contract-uri uploading the manifest', async () => {
    const signer = new Wallet(anvil.privateKeys[2]).address;
    const set = await asOwner(['set-signer', signer, '--payee', PAYEE, '--json']);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(set.stdout)).toMatchObject({ signer, kind: 'operator', payee: PAYEE });
    const revoked = await asOwner(['revoke-signer', signer, '--json']);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ signer, kind: 'none', payee: PAYEE });

    const uri = await asOwner(['set-contract-uri', '--arweave', arlocal.url, '--arweave-wallet', arweaveWallet, '--json']);
    expect(uri).toMatchObject({ code: 0, stderr: '' });
    const { contractURI } = JSON.parse(uri.stdout) as { contractURI: string };
    expect(await reads().contractURI()).toBe(contractURI);
    expect(readDeployment().contractURI).toBe(contractURI);
  });

  it('withdraw with no earnings says so in one line', async () => {
    const run = await asOwner(['withdraw', '--signer', operator()]);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([`error: withdraw refused: AIGCNothingToWithdraw: signer ${operator()} has no earnings to withdraw`]);
  });
});
