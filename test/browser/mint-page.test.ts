/// <reference lib="dom" />
// The page functions below run in Chromium: DOM types.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type EventLog, Wallet } from 'ethers';
import { type Browser, chromium, type Frame, type Page } from 'playwright-core';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { connectCollection, deployFromTemplate } from '../../pipeline/chain/collection';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { CHROMIUM, CHROMIUM_ARGS, injectWallet } from '../helpers/browser-wallet';
import { events, type NodeFixture, PRICE, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { build } = require('../../templates/mint-page/build.js') as {
  build(): Promise<{ outfile: string; bytes: number; gzipped: number }>;
};

jest.setTimeout(240_000);

const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts', 'mint-page');
const README_SCREENSHOT = path.resolve(__dirname, '..', '..', 'docs', 'images', 'mint-page.png');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const STYLE = { label: 'Watercolour', suffix: ', watercolour' };

// The real gateway in front of the local renderer, slowed so each stage is seen, failing for good on one prompt
// (the node rejects and refunds it).
const local = createLocalBackend();
const backend: DiffusionBackend = {
  ...local,
  async render(input) {
    if (input.prompt.includes('unrenderable')) throw new Error('CUDA out of memory');
    await new Promise((r) => setTimeout(r, 1_500));
    return local.render(input);
  },
};

let f: NodeFixture;
let node: RunningNode;
let browser: Browser;
let thirdParty: http.Server;
let thirdPartyUrl: string;
let bundle: { bytes: number; gzipped: number };
const timings: Record<string, unknown> = {};

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: apt-get install chromium (or set AIGC_CHROMIUM); the mint page tests drive a real browser`,
    );
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  bundle = await build();
  f = await startNodeFixture({ backend, accounts: 13 });
  node = await startNode({
    config: f.config({ api: { corsOrigins: ['*'] } }),
    template: { ...template, presets: [STYLE] },
    logger: createLogger({ level: 'silent' }),
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  // A plain page of another site (another origin: another port) that embeds the mint page.
  thirdParty = http.createServer((req, res) => {
    const embed = `<script src="${node.httpUrl}/embed.js" async></script>
<aigc-mint collection="${node.collection}" chain-id="31337" rpc="${f.stack.anvil.rpcUrl}"></aigc-mint>`;
    const frame = `<iframe src="${hostedUrl()}" title="Mint Genesis Dreams" style="width:100%;max-width:560px;height:900px;border:0"></iframe>`;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A creator's site</title></head><body><main><h1>A creator's site</h1>${req.url === '/iframe' ? frame : embed}</main></body></html>`);
  });
  await new Promise<void>((resolve) => thirdParty.listen(0, '127.0.0.1', resolve));
  thirdPartyUrl = `http://127.0.0.1:${(thirdParty.address() as AddressInfo).port}`;
});

afterAll(async () => {
  fs.writeFileSync(
    path.join(ARTIFACTS, 'budget.json'),
    `${JSON.stringify({ bundle: { bytes: bundle?.bytes, gzipped: bundle?.gzipped }, timings }, null, 2)}\n`,
  );
  await browser?.close();
  thirdParty?.close();
  await node?.stop();
  await f?.stop();
});

const hostedUrl = () => `${node.httpUrl}/mint/31337/${node.collection}?rpc=${encodeURIComponent(f.stack.anvil.rpcUrl)}`;
const keys = () => f.stack.anvil.privateKeys;

async function openPage(
  url: string,
  key: string | undefined,
  wallet: Partial<Parameters<typeof injectWallet>[1]> = {},
  viewport = { width: 520, height: 1100 },
) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  const injected = key
    ? await injectWallet(page, { provider: f.provider, rpcUrl: f.stack.anvil.rpcUrl, privateKey: key, chainId: 31337, ...wallet })
    : undefined;
  await page.goto(url);
  return { page, wallet: injected, close: () => context.close() };
}

/** The `<aigc-mint>` element of a page or frame. */
const mint = (where: Page | Frame) => where.locator('aigc-mint');
const state = (where: Page | Frame, name: string, timeout = 90_000) =>
  where.locator(`aigc-mint[data-state="${name}"]`).waitFor({ timeout });

/** Serious and critical axe-core violations of the page (the component's open shadow root included). */
async function axeViolations(where: Page | Frame): Promise<string[]> {
  await where.evaluate(AXE);
  const result = (await where.evaluate(() =>
    (
      window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }> } }
    ).axe.run(),
  )) as { violations: { id: string; impact: string; help: string; nodes: unknown[] }[] };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
}

async function snap(page: Page, name: string) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Records each stage the page marks current, in order. */
async function watchStages(where: Page | Frame) {
  await where.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __stages: string[] }).__stages = seen;
    const root = document.querySelector('aigc-mint')!.shadowRoot!;
    new MutationObserver(() => {
      const current = root.querySelector('[aria-current="step"]')?.firstChild?.textContent;
      if (current && seen[seen.length - 1] !== current) seen.push(current);
    }).observe(root, { subtree: true, childList: true, attributes: true });
  });
  return () => where.evaluate(() => (window as unknown as { __stages: string[] }).__stages);
}

async function connectAndMint(where: Page | Frame, prompt: string, { style = false } = {}) {
  const el = mint(where);
  await el.getByRole('button', { name: 'Connect wallet', exact: true }).click();
  await el.getByText('Connected').waitFor();
  await el.getByLabel('Your prompt').fill(prompt);
  if (style) await el.getByText(STYLE.label, { exact: true }).click();
  await el.getByRole('button', { name: /^Mint for 0\.01 ETH$/ }).click();
}

const tokenIdOf = async (where: Page | Frame) =>
  BigInt(
    (await mint(where)
      .getByRole('heading', { name: /Minted: token #\d+/ })
      .textContent())!.match(/#(\d+)/)![1],
  );

describe("the node's mint page routes", () => {
  it('GET /v1/collections/:chainId/:address answers what the page shows, readable from any origin', async () => {
    const res = await fetch(`${node.httpUrl}/v1/collections/31337/${node.collection.toLowerCase()}`, {
      headers: { origin: thirdPartyUrl },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const [, reserved] = await f.collection.requestCounts();
    expect(await res.json()).toMatchObject({
      chainId: 31337,
      address: node.collection,
      name: template.name,
      symbol: template.symbol,
      description: template.description,
      priceWei: template.mint.priceWei,
      maxSupply: template.mint.maxSupply,
      reserved: Number(reserved),
      remaining: template.mint.maxSupply - Number(reserved),
      maxPromptBytes: template.mint.maxPromptBytes,
      refundDelaySeconds: template.mint.refundDelaySeconds,
      mintStart: 0,
      mintEnd: 0,
      walletLimit: 0,
      paused: false,
      presets: [STYLE],
      startBlock: f.deployBlock,
      arweaveGateway: f.stack.arlocal.url,
    });
    const unknown = await fetch(`${node.httpUrl}/v1/collections/1/${node.collection}`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const bad = await fetch(`${node.httpUrl}/v1/collections/x/0x12`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({
      chainId: 'a decimal chain id',
      address: 'a 0x-prefixed 20-byte address',
    });
  });

  it('serves /embed.js with a content ETag (304 when unchanged) to any origin', async () => {
    const res = await fetch(`${node.httpUrl}/embed.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect((await res.arrayBuffer()).byteLength).toBe(bundle.bytes);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect((await fetch(`${node.httpUrl}/embed.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('serves a hosted page any site may frame; only an http(s) rpc parameter reaches the page', async () => {
    const res = await fetch(hostedUrl());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe('frame-ancestors *');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(await res.text()).toContain(`<aigc-mint collection="${node.collection}" chain-id="31337" rpc="${f.stack.anvil.rpcUrl}">`);
    for (const rpc of ['javascript:alert(1)', 'http://x"><script>alert(1)</script>']) {
      const page = await (await fetch(`${node.httpUrl}/mint/31337/${node.collection}?rpc=${encodeURIComponent(rpc)}`)).text();
      expect(page).toContain(`<aigc-mint collection="${node.collection}" chain-id="31337">`);
      expect(page).not.toContain('alert');
    }
    expect((await fetch(`${node.httpUrl}/mint/1/${node.collection}`)).status).toBe(404);
  });
});

describe('the mint page embedded with a script tag on another site', () => {
  it('connects the wallet, mints with a style, shows each stage, the image and a verified badge', async () => {
    const { page, wallet, close } = await openPage(thirdPartyUrl, keys()[3]);
    try {
      await state(page, 'ready');
      timings.scriptEmbed = await mint(page).evaluate((el) => (el as unknown as { timings: unknown }).timings);
      await mint(page).getByRole('heading', { name: template.name }).waitFor();
      await mint(page).getByText(`0 of ${template.mint.maxPromptBytes} bytes`).waitFor();
      await snap(page, '1-ready');
      expect(await axeViolations(page)).toEqual([]);

      const stages = await watchStages(page);
      await connectAndMint(page, 'a red fox in the snow', { style: true });
      await mint(page)
        .getByText(`${'a red fox in the snow'.length + STYLE.suffix.length} of 280 bytes (with the style)`)
        .waitFor();
      await state(page, 'progress');
      await mint(page).getByText('Rendering your image.').waitFor();
      await snap(page, '2-rendering');
      expect(await axeViolations(page)).toEqual([]);
      await state(page, 'minted');
      const badge = mint(page).getByRole('button', { name: '✓ Verified' });
      await badge.waitFor({ timeout: 60_000 });
      const width = await mint(page)
        .locator('img.art')
        .evaluate((img: HTMLImageElement) =>
          img.complete ? img.naturalWidth : new Promise<number>((resolve) => (img.onload = () => resolve(img.naturalWidth))),
        );
      expect(width).toBe(template.render.width);
      await badge.click();
      expect(await badge.getAttribute('aria-expanded')).toBe('true');
      const checks = mint(page).locator('ul.checks li');
      expect(await checks.count()).toBe(9);
      expect(await mint(page).locator('ul.checks li[data-ok="false"]').count()).toBe(0);
      await snap(page, '3-minted');
      // The README's picture of the page: AIGC_README_SCREENSHOT=1 npx jest --runTestsByPath test/browser/mint-page.test.ts
      if (process.env.AIGC_README_SCREENSHOT) await mint(page).screenshot({ path: README_SCREENSHOT });
      expect(await axeViolations(page)).toEqual([]);
      // In order, none skipped back; the minted view ends the list (Storing may pass between two stream polls).
      const seen = await stages();
      expect(seen.slice(0, 2)).toEqual(['Requested', 'Rendering']);
      expect(['Requested', 'Rendering', 'Storing'].filter((s) => seen.includes(s))).toEqual(seen);

      // What the page shows is what the chain holds: the token of the request, owned by the collector, prompt with style.
      const tokenId = await tokenIdOf(page);
      expect(await f.collection.ownerOf(tokenId)).toBe(wallet!.address);
      const [requested] = (await f.collection.queryFilter(f.collection.filters.MintRequested(tokenId))) as EventLog[];
      expect(Buffer.from((requested.args.prompt as string).slice(2), 'hex').toString()).toBe(`a red fox in the snow${STYLE.suffix}`);
      // The stream, not chain polling, drove the stages.
      expect(wallet!.calls.map((c) => c.method)).toContain('eth_sendTransaction');

      // My tokens lists it.
      await mint(page).getByText('My tokens').click();
      await mint(page).locator('ul.tokens li').first().waitFor();
      expect(await mint(page).locator('ul.tokens li').count()).toBe(1);
      await mint(page)
        .getByAltText(new RegExp(`Token #${tokenId}`))
        .waitFor();
    } finally {
      await close();
    }
  });
});

describe('failures a collector understands', () => {
  it('no wallet: says so and links to wallets', async () => {
    const { page, close } = await openPage(hostedUrl(), undefined);
    try {
      await state(page, 'ready');
      await mint(page).getByRole('button', { name: 'Connect wallet', exact: true }).click();
      await state(page, 'no-wallet');
      await mint(page).getByRole('link', { name: 'Find a wallet' }).waitFor();
      await snap(page, 'no-wallet');
    } finally {
      await close();
    }
  });

  it('wrong network: switches (adding the chain the wallet does not know), then mints', async () => {
    const { page, wallet, close } = await openPage(hostedUrl(), keys()[4], { startChainId: 1, knownChains: [1] });
    try {
      await state(page, 'ready');
      await connectAndMint(page, 'a lighthouse at dusk');
      await state(page, 'wrong-network');
      await mint(page).getByText('Your wallet is on Ethereum; this collection is on Local test chain.').waitFor();
      await snap(page, 'wrong-network');
      expect(await axeViolations(page)).toEqual([]);
      await mint(page).getByRole('button', { name: 'Switch to Local test chain' }).click();
      await state(page, 'ready');
      expect(wallet!.chainId()).toBe(31337);
      const added = wallet!.calls.find((c) => c.method === 'wallet_addEthereumChain');
      expect((added?.params[0] as { rpcUrls: string[] }).rpcUrls).toEqual([f.stack.anvil.rpcUrl]);
      await mint(page)
        .getByRole('button', { name: /^Mint for/ })
        .click();
      await state(page, 'minted');
    } finally {
      await close();
    }
  });

  it('refused in the wallet, then not enough ETH: nothing is paid, and the page says why', async () => {
    const poor = Wallet.createRandom();
    await f.provider.send('anvil_setBalance', [poor.address, '0x' + (PRICE / 2n).toString(16)]);
    const { page: refusing, wallet, close } = await openPage(hostedUrl(), keys()[5]);
    try {
      await state(refusing, 'ready');
      wallet!.refuseNext('eth_sendTransaction');
      await connectAndMint(refusing, 'a quiet harbour');
      await state(refusing, 'refused');
      await mint(refusing).getByText('You cancelled the payment. Nothing was paid.').waitFor();
      await snap(refusing, 'refused');
    } finally {
      await close();
    }
    const { page, close: closePoor } = await openPage(hostedUrl(), poor.privateKey);
    try {
      await state(page, 'ready');
      await connectAndMint(page, 'a quiet harbour');
      await state(page, 'insufficient-funds');
      await mint(page)
        .getByText(/This mint needs 0\.01 ETH .* your wallet has 0\.005 ETH/)
        .waitFor();
      await snap(page, 'insufficient-funds');
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await closePoor();
    }
  });

  it("follows the chain when the node's status stream cannot be reached", async () => {
    const { page, close } = await openPage(hostedUrl(), keys()[11]);
    try {
      let blocked = 0;
      await page.route('**/v1/requests/*/events*', (route) => (blocked++, route.abort()));
      await state(page, 'ready');
      await connectAndMint(page, 'a kite over the dunes');
      await mint(page)
        .getByText(/following the chain: only the end is visible there/)
        .waitFor();
      await state(page, 'minted');
      await mint(page).getByRole('button', { name: '✓ Verified' }).waitFor({ timeout: 60_000 });
      expect(blocked).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it("operator rejection: shows the refunded state with the operator's reason", async () => {
    const { page, wallet, close } = await openPage(hostedUrl(), keys()[6]);
    try {
      await state(page, 'ready');
      await connectAndMint(page, 'an unrenderable scene');
      await state(page, 'rejected');
      await mint(page)
        .getByText(/^Rejected: the image could not be generated\. Your 0\.01 ETH was refunded to 0x/)
        .waitFor();
      await mint(page)
        .getByText(/^Operator’s message: gateway answered 502/)
        .waitFor();
      await snap(page, 'rejected');
      expect(await axeViolations(page)).toEqual([]);
      const rejected = (await events(f, 'MintRejected')).find((e) => e.args.requester === wallet!.address)!;
      expect(rejected.args.refunded).toBe(PRICE);
    } finally {
      await close();
    }
  });
});

describe('the iframe embed and small screens', () => {
  it('works inside an iframe of a plain page on another origin', async () => {
    const { page, close } = await openPage(`${thirdPartyUrl}/iframe`, keys()[7]);
    try {
      const frame = page.frameLocator('iframe').owner();
      await frame.waitFor();
      const inner = page.frames().find((fr) => fr.url().startsWith(node.httpUrl!))!;
      expect(new URL(inner.url()).origin).not.toBe(new URL(page.url()).origin);
      await state(inner, 'ready');
      timings.iframe = await mint(inner).evaluate((el) => (el as unknown as { timings: unknown }).timings);
      await connectAndMint(inner, 'a paper boat on a pond');
      await state(inner, 'minted');
      await mint(inner).getByRole('button', { name: '✓ Verified' }).waitFor({ timeout: 60_000 });
      await snap(page, 'iframe-minted');
    } finally {
      await close();
    }
  });

  it('fits 360 px without sideways scrolling', async () => {
    const { page, close } = await openPage(hostedUrl(), keys()[8], {}, { width: 360, height: 780 });
    try {
      await state(page, 'ready');
      await mint(page).getByRole('button', { name: 'Connect wallet', exact: true }).click();
      await mint(page).getByText('Connected').waitFor();
      await mint(page).getByLabel('Your prompt').fill('a very long prompt that wraps over several lines on a small phone screen');
      const widths = await page.evaluate(() => ({
        doc: document.documentElement.scrollWidth,
        el: document.querySelector('aigc-mint')!.getBoundingClientRect().right,
      }));
      expect(widths.doc).toBeLessThanOrEqual(360);
      expect(widths.el).toBeLessThanOrEqual(360);
      await snap(page, '360px');
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe('a collection behind a node that renders nothing', () => {
  // A second collection (60 s to its deadline) behind a node that answers the API but renders and refunds nothing
  // (listen: false): a request stays open until the collector takes the money back.
  const lateTemplate = { ...template, mint: { ...template.mint, refundDelaySeconds: 60 } };
  let late: { address: string; blockNumber: number };
  let idle: RunningNode;
  const pageUrl = () => `${idle.httpUrl}/mint/31337/${late.address}?rpc=${encodeURIComponent(f.stack.anvil.rpcUrl)}`;
  const owned = () => connectCollection(late.address, new Wallet(keys()[0], f.provider));

  beforeAll(async () => {
    late = await deployFromTemplate({
      deployer: new Wallet(keys()[0], f.provider),
      template: lateTemplate,
      operator: new Wallet(keys()[1]).address,
    });
    idle = await startNode({
      config: f.config({ collection: { address: late.address }, chain: { startBlock: late.blockNumber }, redis: { prefix: 'idle' } }),
      template: lateTemplate,
      listen: false,
      logger: createLogger({ level: 'silent' }),
    });
  });
  afterAll(() => idle?.stop());

  it('shows sold out, paused, not open yet and closed from the chain, with minting disabled', async () => {
    const [config, walletLimit] = (await owned().mintConfig()) as [Record<string, bigint>, bigint];
    const base = {
      price: config.price,
      maxSupply: config.maxSupply,
      maxPromptBytes: config.maxPromptBytes,
      refundDelay: config.refundDelay,
      mintStart: config.mintStart,
      mintEnd: config.mintEnd,
    };
    const now = (await f.provider.getBlock('latest'))!.timestamp;
    const cases: [string, string, () => Promise<unknown>][] = [
      ['sold-out', 'Sold out', () => owned().setMintConfig({ ...base, maxSupply: 0 }, walletLimit)],
      ['paused', 'Minting is paused', () => owned().pause()],
      ['not-open', 'Not open yet', () => owned().setMintConfig({ ...base, mintStart: now + 86_400 }, walletLimit)],
      ['closed', 'Minting has closed', () => owned().setMintConfig({ ...base, mintEnd: now - 1 }, walletLimit)],
    ];
    for (const [name, title, set] of cases) {
      await ((await set()) as { wait(): Promise<unknown> }).wait();
      const { page, close } = await openPage(pageUrl(), keys()[12]);
      try {
        await state(page, name);
        await mint(page).getByRole('heading', { name: title }).waitFor();
        await mint(page).getByLabel('Your prompt').fill('a lantern');
        expect(await mint(page).locator('#mint').isDisabled()).toBe(true);
        await snap(page, name);
      } finally {
        await close();
      }
      await (name === 'paused' ? owned().unpause() : owned().setMintConfig(base, walletLimit)).then((tx) => tx.wait());
    }
  });

  // Last: it moves the chain's clock.
  it('shows that it is slow, then a refund button once the deadline passed; the refund returns the price', async () => {
    const { page, wallet, close } = await openPage(pageUrl(), keys()[9]);
    try {
      await state(page, 'ready');
      await connectAndMint(page, 'a render nobody makes');
      await mint(page).getByText('Paid. Waiting for the operator to start rendering.').waitFor();
      const refund = mint(page).getByRole('button', { name: 'Refund 0.01 ETH' });
      expect(await refund.count()).toBe(0);
      await f.provider.send('evm_increaseTime', [61]);
      await f.provider.send('evm_mine', []);
      await state(page, 'slow');
      await until('the refund button enabled', () => refund.isEnabled(), 30_000);
      await snap(page, 'slow-refundable');
      expect(await axeViolations(page)).toEqual([]);
      const before = await f.provider.getBalance(wallet!.address);
      await refund.click();
      await state(page, 'refunded');
      await mint(page)
        .getByText(/was not delivered in time; 0\.01 ETH went back to 0x/)
        .waitFor();
      await snap(page, 'refunded');
      const collection = connectCollection(late.address, f.provider);
      const [refunded] = (await collection.queryFilter(collection.filters.MintRefunded())) as EventLog[];
      expect(refunded.args.requester).toBe(wallet!.address);
      expect(refunded.args.refunded).toBe(PRICE);
      expect(await f.provider.getBalance(wallet!.address)).toBeGreaterThan(before); // the price back, less the refund's gas
    } finally {
      await close();
    }
  });
});
