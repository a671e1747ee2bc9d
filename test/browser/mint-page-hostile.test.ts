/// <reference lib="dom" />
// The page functions below run in Chromium: DOM types.
import fs from 'node:fs';
import { type EventLog } from 'ethers';
import { type Browser, chromium, type Page } from 'playwright-core';
import { promptProblem } from '../../protocol/prompt';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { CHROMIUM, CHROMIUM_ARGS, injectWallet } from '../helpers/browser-wallet';
import { hostilePrompts } from '../helpers/hostile';
import { type NodeFixture, startNodeFixture, template } from '../helpers/node-stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { build } = require('../../templates/mint-page/build.js') as {
  build(): Promise<{ outfile: string; bytes: number; gzipped: number }>;
};

jest.setTimeout(240_000);

/**
 * The shared hostile corpus at the mint page's prompt box: each prompt typed in is refused in the words of the shared
 * policy (protocol/prompt.ts) or over the collection's byte cap with minting disabled, or accepted with the button
 * enabled; three accepted ones are minted, and the page shows them as text (no markup, no dialog, direction isolated)
 * while the manifest holds them exactly.
 */
const CAP = template.mint.maxPromptBytes;

let f: NodeFixture;
let node: RunningNode;
let browser: Browser;
beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set AIGC_CHROMIUM); these tests drive a real browser`);
  await build();
  f = await startNodeFixture({ accounts: 6 });
  node = await startNode({ config: f.config(), template, logger: createLogger({ level: 'silent' }) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
  await node?.stop();
  await f?.stop();
});

const pageUrl = () => `${node.httpUrl}/mint/31337/${node.collection}?rpc=${encodeURIComponent(f.stack.anvil.rpcUrl)}`;

/** A hosted mint page with a test wallet of anvil account `account`; dialogs and page errors are recorded, not shown. */
async function openPage(account: number) {
  const context = await browser.newContext({ viewport: { width: 520, height: 1100 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await injectWallet(page, {
    provider: f.provider,
    rpcUrl: f.stack.anvil.rpcUrl,
    privateKey: f.stack.anvil.privateKeys[account],
    chainId: 31337,
  });
  await page.goto(pageUrl());
  await page.locator('aigc-mint[data-state="ready"]').waitFor({ timeout: 60_000 });
  return { page, dialogs, errors, close: () => context.close() };
}

/** What the form shows now: the box's value as the page holds it, the byte counter, the policy's error, the button. */
const formState = (page: Page) =>
  page.locator('aigc-mint').evaluate((el) => {
    const root = el.shadowRoot!;
    const box = root.querySelector('textarea')!;
    const problem = root.querySelector<HTMLElement>('#prompt-problem');
    return {
      value: box.value,
      invalid: box.getAttribute('aria-invalid'),
      count: root.querySelector('#count')!.textContent,
      over: (root.querySelector('#count') as HTMLElement).dataset.over,
      problem: problem && !problem.hidden ? problem.textContent : null,
      // The error is announced with the box: it is one of the box's descriptions.
      described: (box.getAttribute('aria-describedby') ?? '').split(' ').includes(problem?.id ?? '-'),
      disabled: root.querySelector<HTMLButtonElement>('#mint')!.disabled,
    };
  });

/** Puts `text` into the prompt box as its UTF-16 code units (lone surrogates kept) and fires `input`, as a paste does. */
const pasteCodeUnits = (page: Page, text: string) =>
  page.locator('aigc-mint').evaluate(
    (el, units) => {
      const box = el.shadowRoot!.querySelector('textarea')!;
      box.value = String.fromCharCode(...units);
      box.dispatchEvent(new Event('input', { bubbles: true }));
    },
    Array.from({ length: text.length }, (_, i) => text.charCodeAt(i)),
  );

describe('the prompt box: every hostile prompt', () => {
  it('shows the shared policy’s error and disables Mint for a refused prompt, the byte count against the cap, else enables Mint', async () => {
    const { page, errors, close } = await openPage(2);
    try {
      await page.locator('aigc-mint').getByRole('button', { name: 'Connect wallet', exact: true }).click();
      await page.locator('aigc-mint').getByText('Connected').waitFor();
      const box = page.locator('aigc-mint').getByLabel('Your prompt');
      const verdicts: string[] = [];
      for (const { name, prompt } of hostilePrompts) {
        await box.fill(prompt);
        // fill() carries text over the DevTools protocol, as UTF-8: a lone surrogate arrives as U+FFFD. The box can hold
        // one (pasted by a script), so it gets the UTF-16 code units themselves, with the input event typing sends.
        if (/\p{Cs}/u.test(prompt)) await pasteCodeUnits(page, prompt);
        const s = await formState(page);
        // Judged on what the box holds (a textarea turns CR LF into LF); the page sends it without outer whitespace.
        const problem = s.value ? promptProblem(s.value) : undefined;
        const bytes = Buffer.byteLength(s.value.trim());
        if (s.value === '') {
          // Nothing typed yet: nothing to complain about, nothing to mint.
          expect([name, s.problem, s.disabled, s.count]).toEqual([name, null, true, `0 of ${CAP} bytes`]);
          verdicts.push('empty');
        } else if (problem) {
          expect([name, s.problem, s.disabled, s.invalid, s.described]).toEqual([
            name,
            `This prompt cannot be minted: ${problem}.`,
            true,
            'true',
            true,
          ]);
          verdicts.push('refused');
        } else if (bytes > CAP) {
          expect([name, s.problem, s.disabled, s.invalid, s.over, s.count]).toEqual([
            name,
            null,
            true,
            'true',
            'true',
            `${bytes} of ${CAP} bytes: ${bytes - CAP} too many`,
          ]);
          verdicts.push('over');
        } else {
          expect([name, s.problem, s.disabled, s.invalid, s.count]).toEqual([name, null, false, 'false', `${bytes} of ${CAP} bytes`]);
          verdicts.push('accepted');
        }
        // Where the box keeps the text as typed, the page's verdict is the one of every other door.
        if (s.value === prompt)
          expect([name, verdicts.at(-1) === 'accepted']).toEqual([name, !promptProblem(prompt) && Buffer.byteLength(prompt.trim()) <= CAP]);
      }
      expect(verdicts.filter((v) => v === 'refused').length).toBeGreaterThanOrEqual(12);
      expect(verdicts.filter((v) => v === 'over').length).toBeGreaterThanOrEqual(4);
      expect(verdicts.filter((v) => v === 'accepted').length).toBeGreaterThan(30);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe('accepted hostile prompts, minted from the page', () => {
  const NAMES = ['HTML script', 'RTL override', 'emoji ZWJ family'];

  it.each(NAMES.map((n, i) => [n, i] as const))(
    '%s: shown as text in the result and in My tokens; the manifest holds it exactly',
    async (name, i) => {
      const { prompt } = hostilePrompts.find((p) => p.name === name)!;
      const { page, dialogs, errors, close } = await openPage(3 + i);
      try {
        const el = page.locator('aigc-mint');
        await el.getByRole('button', { name: 'Connect wallet', exact: true }).click();
        await el.getByText('Connected').waitFor();
        await el.getByLabel('Your prompt').fill(prompt);
        await el.getByRole('button', { name: /^Mint for 0\.01 ETH$/ }).click();
        await page.locator('aigc-mint[data-state="minted"]').waitFor({ timeout: 120_000 });
        await el.getByRole('button', { name: '✓ Verified' }).waitFor({ timeout: 60_000 });

        const tokenId = BigInt((await el.getByRole('heading', { name: /Minted: token #\d+/ }).textContent())!.match(/#(\d+)/)![1]);
        const shown = await el.evaluate((e) => {
          const root = e.shadowRoot!;
          const quoted = root.querySelector('#result bdi');
          return {
            text: quoted?.textContent ?? null,
            // Nothing under the quote but its text.
            children: quoted?.children.length ?? -1,
            alt: root.querySelector<HTMLImageElement>('#result img.art')!.alt,
            injected: root.querySelectorAll('script, img[src="x"], a[href^="javascript:"]').length,
          };
        });
        // A <bdi>: an override inside cannot reorder the text around it.
        expect(shown).toEqual({ text: prompt, children: 0, alt: `Your token: ${prompt}`, injected: 0 });

        await el.getByText('My tokens').click();
        const thumb = el.getByAltText(`Token #${tokenId}: ${prompt}`, { exact: true });
        await thumb.waitFor({ timeout: 30_000 });
        expect(await el.evaluate((e) => e.shadowRoot!.querySelectorAll('img[src="x"], script').length)).toBe(0);
        expect({ dialogs, errors }).toEqual({ dialogs: [], errors: [] });

        const [requested] = (await f.collection.queryFilter(f.collection.filters.MintRequested(tokenId))) as EventLog[];
        expect(Buffer.from((requested.args.prompt as string).slice(2), 'hex').toString('utf8')).toBe(prompt);
        const uri = (await f.collection.tokenURI(tokenId)) as string;
        const manifest = (await (await fetch(`${f.stack.arlocal.url}/${uri.slice('ar://'.length)}`)).json()) as {
          prompt: string;
          aigc: { prompt: string };
        };
        expect([manifest.prompt, manifest.aigc.prompt]).toEqual([prompt, prompt]);
      } finally {
        await close();
      }
    },
  );
});
