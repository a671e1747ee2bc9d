import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatUnits, type JsonRpcProvider, toUtf8Bytes, Wallet } from 'ethers';
import { collectionInterface, deployFromTemplate } from '../../pipeline/chain/collection';
import { createProvider } from '../../pipeline/chain/provider';
import { type Anvil, startAnvil } from '../../pipeline/embedded/anvil';
import { type ArlocalHandle, startArlocal } from '../../pipeline/embedded/arlocal';
import { loadTemplate } from '../../pipeline/template';
import { type CliRun, runCli } from '../helpers/cli';

// `aigc quote` as users run it: the compiled CLI (run `npm run build` first) against anvil and arlocal.
jest.setTimeout(60_000);

const template = loadTemplate('open-prompt');
let anvil: Anvil;
let arlocal: ArlocalHandle;
let provider: JsonRpcProvider;
let collection: string;

/** Asynchronous, so arlocal (in this process) keeps answering while the CLI runs. */
const quote = (...args: string[]) => quoteIn(process.cwd(), ...args);
const quoteIn = (cwd: string, ...args: string[]) =>
  runCli(['quote', ...args], { cwd, env: { ...process.env, AIGC_RPC_URL: '', AIGC_ARWEAVE_URL: '' } });
const local = () => ['--rpc', anvil.rpcUrl, '--arweave', arlocal.url];
const arlocalPrice = async (bytes: number) => (await (await fetch(`${arlocal.url}/price/${bytes}`)).text()).trim();
/** Whole 256 KiB chunks, computed here rather than taken from the code under test. */
const wholeChunks = (bytes: number) => Math.ceil(bytes / 262_144) * 262_144;

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 3 });
  arlocal = await startArlocal({ dbPath: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-quote-')), 'arlocal') });
  provider = createProvider(anvil.rpcUrl);
  const deployer = new Wallet(anvil.privateKeys[0], provider);
  collection = (await deployFromTemplate({ deployer, template, operator: new Wallet(anvil.privateKeys[1]).address })).address;
});
afterAll(async () => {
  provider?.destroy();
  await arlocal?.stop();
  await anvil?.stop();
});

describe('aigc quote', () => {
  it('prices a measured sample image and manifest with the gateway, and gas at the chain fee', async () => {
    const run = await quote('--count', '7', '--json', ...local());
    expect(run.code).toBe(0);
    const q = JSON.parse(run.stdout);
    expect(q.image).toMatchObject({ measured: true, format: 'png', width: 512, height: 512 });
    expect(q.image.bytes).toBeGreaterThan(10_000);
    for (const part of [q.image, q.manifest]) {
      expect(part.pricedBytes).toBe(wholeChunks(part.bytes));
      expect(part.winston).toBe(await arlocalPrice(part.pricedBytes));
      expect(BigInt(part.totalWinston)).toBe(BigInt(part.winston) * 7n);
    }
    expect(BigInt(q.arweave.totalWinston)).toBe((BigInt(q.image.winston) + BigInt(q.manifest.winston)) * 7n);
    expect(q.arweave.totalAr).toBe(formatUnits(BigInt(q.arweave.totalWinston), 12)); // 1 AR = 10^12 winston
    const { maxFeePerGas } = await provider.getFeeData();
    expect(q.chain).toMatchObject({ chainId: 31337, maxFeePerGas: maxFeePerGas!.toString() });
    expect(q.gas.fulfill).toMatchObject({
      gas: '97977',
      source: 'measured',
      paidBy: 'operator',
      perTokenWei: (97_977n * maxFeePerGas!).toString(),
    });
    expect(q.gas.fulfillBatch).toMatchObject({ gas: '70373', batchSize: 20, totalWei: (70_373n * maxFeePerGas! * 7n).toString() });
    expect(q.gas.requestMint).toMatchObject({ gas: '61921', source: 'measured', paidBy: 'collector' });
    expect(q.mintPrice).toEqual({ wei: template.mint.priceWei, source: 'template' });
    expect(run.stderr).toMatch(/rendering a 512×512 png sample with the local renderer/);
  });

  it('takes the image size from --image-bytes', async () => {
    const q = JSON.parse((await quote('--image-bytes', '1000000', '--json', ...local())).stdout);
    expect(q.image).toMatchObject({ bytes: 1_000_000, pricedBytes: 1_048_576, measured: false, winston: await arlocalPrice(1_048_576) });
  });

  it('estimates requestMint live and reads the price from a deployed collection', async () => {
    const q = JSON.parse((await quote('--collection', collection, '--json', ...local())).stdout);
    const collector = new Wallet(anvil.privateKeys[2], provider);
    const expected = await provider.estimateGas({
      from: collector.address,
      to: collection,
      data: collectionInterface.encodeFunctionData('requestMint', [
        toUtf8Bytes('a lighthouse on a basalt cliff at dawn, soft light, film gra'),
      ]),
      value: BigInt(template.mint.priceWei),
    });
    expect(q.gas.requestMint).toMatchObject({ source: 'eth_estimateGas', gas: expected.toString() });
    expect(q.mintPrice).toEqual({ wei: template.mint.priceWei, source: 'chain' });
  });

  it('with --collection and no --template, sizes images by the folder’s collection.json, else says what it assumed', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-quote-folder-'));
    const json = (q: CliRun) =>
      JSON.parse(q.stdout) as { template: string; templateSource: string; templateNote?: string; image: { width: number } };
    const assumed = json(await quoteIn(folder, '--collection', collection, '--json', ...local()));
    expect(assumed).toMatchObject({ template: template.name, templateSource: 'default', image: { width: template.render.width } });
    expect(assumed.templateNote).toMatch(
      new RegExp(
        `^assumed: ${collection} is priced from the chain, but sized like the shipped template ".+" \\(its 512×512 images\\); pass --template`,
      ),
    );
    const own = { ...template, name: 'Wide Things', render: { ...template.render, width: 768, height: 256 } };
    fs.writeFileSync(path.join(folder, 'collection.json'), JSON.stringify(own));
    const fromFolder = json(await quoteIn(folder, '--collection', collection, '--json', ...local()));
    expect(fromFolder).toMatchObject({ template: 'Wide Things', templateSource: 'folder', image: { width: 768 } });
    // A folder given as --template is that folder's collection.json, not a path under the shipped templates.
    const text = await quote('--template', folder, '--image-bytes', '1000', ...local());
    expect(text.stdout.split('\n')[0]).toBe('aigc quote: 100 mints of "Wide Things" (768×256 png)');
  });

  it('prints a table with per-token and total figures for collector and operator', async () => {
    const run = await quote('--count', '50', ...local());
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('aigc quote: 50 mints of "Genesis Dreams" (512×512 png)');
    expect(lines.find((l) => l.startsWith('requestMint gas'))).toMatch(
      /collector\s+61,921 gas = [\d.]+ ETH\s+[\d.]+ ETH\s+measured on anvil/,
    );
    expect(lines.find((l) => l.startsWith('fulfil gas, batches of 20'))).toMatch(/operator\s+70,373 gas = /);
    expect(lines.find((l) => l.startsWith('Arweave: image'))).toMatch(/operator\s+[\d.]+ AR\s+[\d.]+ AR\s+\/price\/\d+ \(\d chunks?\)/);
    expect(run.stdout).toMatch(/real models' PNGs are typically larger: pass --image-bytes N/);
  });

  it.each([
    [['--count', '0'], /--count/],
    [['--image-bytes', 'lots'], /--image-bytes/],
    [['--arweave', 'ftp://x'], /--arweave/],
    [['--collection', '0x12'], /--collection/],
    [['--format', 'gif'], /--format/],
    [['--template', 'no-such-template'], /cannot read collection template .*no-such-template/],
    [['--rpc', 'http://127.0.0.1:9'], /cannot reach the JSON-RPC endpoint http:\/\/127\.0\.0\.1:9: .*check --rpc/],
  ])('refuses %j with one error line naming it', async (args, message) => {
    const run = await quote(...local(), ...(args as string[]));
    expect(run.code).not.toBe(0);
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message as RegExp);
    expect(run.stdout).toBe('');
  });
});

it('checks AIGC_RPC_URL and AIGC_ARWEAVE_URL like their flags, naming the variable', async () => {
  for (const name of ['AIGC_RPC_URL', 'AIGC_ARWEAVE_URL']) {
    const run = await runCli(['quote', '--image-bytes', '1000'], {
      env: { ...process.env, AIGC_RPC_URL: '', AIGC_ARWEAVE_URL: '', [name]: 'http://exa mple' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: ${name}="http://exa mple" is invalid`, 'm'));
  }
});
