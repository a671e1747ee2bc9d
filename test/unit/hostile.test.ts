import fs from 'node:fs';
import { AbiCoder, keccak256, toUtf8Bytes, toUtf8String, Utf8ErrorFuncs, ZeroHash, zeroPadValue } from 'ethers';
import { promptProblem } from '../../protocol/prompt';
import { collectorPrompt, MINT_REQUESTED_TOPIC, parseMintRequested } from '../../pipeline/chain/request';
import { AigcError } from '../../pipeline/errors';
import { loadTemplate, templatesDir } from '../../pipeline/template';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import { hostileConfigs, hostilePrompts, hostileRequests, sendHostile, writeHostileConfig } from '../helpers/hostile';
import { generate, type RunningGateway, startGateway } from '../helpers/gateway';

/** The shared hostile corpus (test/fixtures/hostile) at the doors that need no chain: gateway HTTP, collection.json, the prompt policy, the event decoder. */
type ErrorBody = { error?: { code: string; message: string; fields?: Record<string, string> }; prompt?: string };

it('has the corpus the issue asks for: ≥ 60 prompts, ≥ 30 malformed requests and configs, each with a why', () => {
  expect(hostilePrompts.length).toBeGreaterThanOrEqual(60);
  expect(hostileRequests.length + hostileConfigs.length).toBeGreaterThanOrEqual(30);
  for (const c of [...hostilePrompts, ...hostileRequests, ...hostileConfigs]) expect(c.why.length).toBeGreaterThan(3);
  expect(new Set(hostilePrompts.map((p) => p.name)).size).toBe(hostilePrompts.length);
});

describe('the gateway door (POST /v1/generate), default settings', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({ backend: createLocalBackend() });
  });
  afterAll(() => gw.close());

  it.each(hostilePrompts.map((p) => [p.name, p.prompt] as const))('%s: a 4xx naming prompt, or a normalised render', async (_n, prompt) => {
    const res = await generate(gw.url, { prompt, seed: 1, width: 64, height: 64 }, { accept: 'application/json' });
    const body = (await res.json()) as ErrorBody;
    if (res.status === 200) {
      expect(promptProblem(prompt)).toBeUndefined();
      expect(body.prompt).not.toMatch(/[\p{Cc}\u202A-\u202E\u2066-\u2069\u200B-\u200D\uFEFF]|\s{2,}|\p{Cs}/u);
    } else {
      expect(res.status).toBe(400);
      expect(body.error!.fields!.prompt).toBeTruthy();
    }
    // One policy: the gateway refuses exactly what the node's API refuses (the token budget cuts, not refuses, by default).
    expect(res.status === 400).toBe(promptProblem(prompt) !== undefined || prompt.length > 4_000);
  });

  it.each(hostileRequests.filter((r) => r.door !== 'mints').map((r) => [r.name, r] as const))('%s: 400 INVALID_REQUEST', async (_n, r) => {
    const res = await sendHostile(`${gw.url}/v1/generate`, r, { oversizeBytes: 3 * 1024 * 1024 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error!.code).toBe('INVALID_REQUEST');
  });
});

describe('the collection.json door (loadTemplate)', () => {
  const base = JSON.parse(fs.readFileSync(`${templatesDir()}/open-prompt/collection.json`, 'utf8')) as Record<string, unknown>;
  delete base.$schema;
  it.each(hostileConfigs.map((c) => [c.name, c] as const))('%s: TEMPLATE_INVALID naming what is wrong', (_n, c) => {
    const file = writeHostileConfig(c, base);
    try {
      loadTemplate(file);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(AigcError);
      expect((error as AigcError).code).toBe('TEMPLATE_INVALID');
      if (c.patch) expect((error as AigcError).shortMessage).toMatch(new RegExp(`${Object.keys(c.patch)[0]}|\\(root\\)`));
    }
  });
});

describe('the on-chain prompt policy (collectorPrompt)', () => {
  const request = (bytes: Uint8Array) => {
    // Decoded as the node decodes MintRequested (invalid sequences become U+FFFD).
    return { prompt: toUtf8String(bytes, Utf8ErrorFuncs.replace), promptHash: keccak256(bytes) };
  };
  it.each(hostilePrompts.map((p) => [p.name, p.prompt] as const))('%s: refused on chain exactly when the API refuses it', (_n, prompt) => {
    // A lone surrogate cannot be sent as UTF-8: a wallet sends bytes, here the WTF-8 bytes of the surrogate (ED A0 80).
    const bytes = /\p{Cs}/u.test(prompt)
      ? Buffer.from(prompt.replace(/\p{Cs}/gu, '\u{FFFD}').replace(/\u{FFFD}/gu, '\xED\xA0\x80'), 'latin1')
      : toUtf8Bytes(prompt);
    const refused = (() => {
      try {
        collectorPrompt(request(bytes));
        return false;
      } catch (error) {
        expect((error as AigcError).code).toBe('INVALID_REQUEST');
        expect((error as AigcError).retryable).toBe(false);
        return true;
      }
    })();
    expect(refused).toBe(promptProblem(prompt) !== undefined);
  });
  it('refuses prompts that show nothing: marks or variation selectors alone, blank letters; keeps them on a base', () => {
    for (const blank of ['\uFE0F\uFE0E', '\u0301\u0301', '\u3164', '\u2800 \uFFA0', '\u{E0100}'])
      expect(promptProblem(blank)).toMatch(/no visible text/);
    for (const shown of ['1\uFE0F\u20E3', 'e\u0301', '\u{1F44B}\u{1F3FD}', '\u0915\u094D\u0937'])
      expect(promptProblem(shown)).toBeUndefined();
  });
  it('refuses bytes that are not UTF-8, but not a genuine U+FFFD', () => {
    expect(() => collectorPrompt(request(Uint8Array.from([0x61, 0xff, 0x62])))).toThrow(/not valid UTF-8/);
    expect(() => collectorPrompt(request(Uint8Array.from([0xc0, 0x80])))).toThrow(/not valid UTF-8/); // overlong NUL
    expect(collectorPrompt(request(toUtf8Bytes('a \uFFFD fox')))).toBe('a \uFFFD fox');
  });
});

describe('the event decoder: logs under the MintRequested topic that are shaped otherwise', () => {
  const coder = AbiCoder.defaultAbiCoder();
  const good = coder.encode(['uint256', 'uint64', 'uint8', 'bytes32', 'bytes'], [1n, 2n, 1, ZeroHash, toUtf8Bytes('a fox')]);
  const word = (n: number) => zeroPadValue(`0x${n.toString(16).padStart(2, '0')}`, 32);
  const address = zeroPadValue('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 32);
  const log = (topics: string[], data: string) => ({
    topics,
    data,
    index: 0,
    blockNumber: 1,
    blockHash: ZeroHash,
    transactionHash: ZeroHash,
  });
  const SHAPES: [string, ReturnType<typeof log>][] = [
    ['no indexed topics', log([MINT_REQUESTED_TOPIC], good)],
    ['one topic too many', log([MINT_REQUESTED_TOPIC, word(1), address, address, word(9)], good)],
    ['empty data', log([MINT_REQUESTED_TOPIC, word(1), address, address], '0x')],
    ['truncated data', log([MINT_REQUESTED_TOPIC, word(1), address, address], good.slice(0, 200))],
    [
      'bytes offset past the end',
      log([MINT_REQUESTED_TOPIC, word(1), address, address], good.slice(0, 2 + 64 * 4) + word(0x7fff).slice(2)),
    ],
    ['address topic with dirty high bits', log([MINT_REQUESTED_TOPIC, word(1), `0xff${address.slice(4)}`, address], good)],
    [
      'prompt length of 2^64',
      log([MINT_REQUESTED_TOPIC, word(1), address, address], good.slice(0, 2 + 64 * 5) + 'f'.repeat(16).padStart(64, '0')),
    ],
  ];
  it.each(SHAPES)('%s: EVENT_INVALID, not a crash', (_n, l) => {
    expect(() => parseMintRequested(l)).toThrow(expect.objectContaining({ code: 'EVENT_INVALID' }));
  });
  it('still decodes the well-formed log', () => {
    expect(parseMintRequested(log([MINT_REQUESTED_TOPIC, word(1), address, address], good)).prompt).toBe('a fox');
  });
});
