import { createHash } from 'node:crypto';
import { renderLocal } from '../../services/diffusion-gateway/backends/local';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import { jsonText } from '../../services/diffusion-gateway/http';
import { generateRequestSchema } from '../../protocol/gateway';
import { reduceSeed, seedValue } from '../../protocol/seed';
import { generate, type RunningGateway, startGateway } from '../helpers/gateway';

const MAX = 2n ** 256n - 1n;
const base = { prompt: 'a fox' };
const parse = (seed: unknown) => generateRequestSchema.safeParse({ ...base, seed });
const seedOf = (seed: unknown) => {
  const out = parse(seed);
  if (!out.success) throw new Error(JSON.stringify(out.error.issues));
  return out.data.seed;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('request seed: up to 256 bits', () => {
  it('takes JSON integers up to 2^53−1, decimal strings and 0x-hex strings, as a bigint', () => {
    expect(seedOf(0)).toBe(0n);
    expect(seedOf(42)).toBe(42n);
    expect(seedOf(Number.MAX_SAFE_INTEGER)).toBe(2n ** 53n - 1n);
    expect(seedOf('0')).toBe(0n);
    expect(seedOf('18446744073709551616')).toBe(2n ** 64n);
    expect(seedOf('0x10')).toBe(16n);
    expect(seedOf('0xDEADbeef')).toBe(0xdeadbeefn);
    expect(seedOf(`0x${'f'.repeat(64)}`)).toBe(MAX);
    expect(seedOf(MAX.toString())).toBe(MAX);
    expect(seedOf(`0x${'0'.repeat(6)}${'f'.repeat(64)}`)).toBe(MAX);
    // From TypeScript callers (never from JSON).
    expect(seedOf(7n)).toBe(7n);
  });

  it.each([
    ['2^256 (hex)', `0x1${'0'.repeat(64)}`],
    ['2^256 (decimal)', (MAX + 1n).toString()],
    ['2^256 (bigint)', MAX + 1n],
    ['a negative integer', -1],
    ['a negative string', '-1'],
    ['a negative bigint', -1n],
    ['a float', 1.5],
    ['a float string', '1.5'],
    ['an exponent', '1e3'],
    ['a JSON number above 2^53−1', 2 ** 53],
    ['non-numeric text', 'seven'],
    ['hex without digits', '0x'],
    ['hex digits without 0x', 'ff'],
    ['surrounding spaces', ' 7'],
    ['an empty string', ''],
    ['a huge string of zeros', '0'.repeat(100_000)],
    ['a boolean', true],
    ['null', null],
    ['an array', [1]],
    ['NaN', Number.NaN],
  ])('refuses %s, naming seed', (_what, seed) => {
    const out = parse(seed);
    expect(out.success).toBe(false);
    expect(out.error!.issues.map((i) => i.path.join('.'))).toEqual(['seed']);
    expect(out.error!.issues[0].message.length).toBeGreaterThan(5);
  });

  it('requires a seed', () => {
    expect(generateRequestSchema.safeParse(base).error?.issues.map((i) => i.path.join('.'))).toEqual(['seed']);
  });

  it('reduces a seed to a width as seed mod 2^bits', () => {
    const seed = BigInt(`0x${'0123456789abcdef'.repeat(4)}`);
    expect(reduceSeed(seed, 32)).toBe(0x89abcdefn);
    expect(reduceSeed(seed, 64)).toBe(0x0123456789abcdefn);
    expect(reduceSeed(seed, 256)).toBe(seed);
    expect(reduceSeed(MAX, 64)).toBe(2n ** 64n - 1n);
    expect(seedValue(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(seedValue(2n ** 53n)).toBe(2n ** 53n);
  });

  it('writes a bigint into backend JSON as an exact integer literal', () => {
    expect(jsonText({ seed: 2n ** 64n - 1n, s: 'bigint-x-1', n: [1, 2n] })).toBe(
      '{"seed":18446744073709551615,"s":"bigint-x-1","n":[1,2]}',
    );
    expect(jsonText({ a: 1 })).toBe(JSON.stringify({ a: 1 }));
  });
});

describe('POST /v1/generate with wide seeds', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({ backend: createLocalBackend() });
  });
  afterAll(() => gw.close());

  it.each([[`0x1${'0'.repeat(64)}`], [-1], [1.5], ['seven'], [2 ** 53]])('answers 400 naming seed for %p', async (seed) => {
    const res = await generate(gw.url, { prompt: 'a fox', seed, width: 64, height: 64 });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(error.code).toBe('INVALID_REQUEST');
    expect(Object.keys(error.fields)).toEqual(['seed']);
  });

  it('reports the full seed as a decimal string with seedBits 256 (local), in JSON and headers', async () => {
    const seed = `0x${'f'.repeat(64)}`;
    const json = (await (
      await generate(gw.url, { prompt: 'a fox', seed, width: 64, height: 64 }, { accept: 'application/json' })
    ).json()) as Record<string, unknown>;
    expect(json).toMatchObject({ seed: MAX.toString(), seedBits: 256 });
    const res = await generate(gw.url, { prompt: 'a fox', seed: MAX.toString(), width: 64, height: 64 });
    expect([res.headers.get('x-seed'), res.headers.get('x-seed-bits')]).toEqual([MAX.toString(), '256']);
    // The same seed, hex or decimal: the same image.
    expect(res.headers.get('x-image-sha256')).toBe(json.sha256);
  });

  it('takes a seed spelt in hex or in decimal as the same request: same id, same image', async () => {
    const a = (await (
      await generate(gw.url, { prompt: 'a fox', seed: 9, width: 64, height: 64 }, { accept: 'application/json' })
    ).json()) as Record<string, unknown>;
    const b = (await (
      await generate(gw.url, { prompt: 'a fox', seed: '0x9', width: 64, height: 64 }, { accept: 'application/json' })
    ).json()) as Record<string, unknown>;
    expect(a.seed).toBe('9');
    expect(b.requestId).toBe(a.requestId);
    expect(b.sha256).toBe(a.sha256);
  });
});

describe('local renderer: the whole seed counts', () => {
  const input = { prompt: 'a lighthouse on a basalt cliff at dawn', negativePrompt: 'text', width: 128, height: 128 };

  it('renders different images for seeds that differ only above bit 32, and the same bytes for the same seed', async () => {
    const low = 0x1234_5678n;
    const seeds = [low, low + (1n << 32n), low + (1n << 64n), low + (1n << 255n)];
    const images = await Promise.all(seeds.map(async (seed) => sha((await renderLocal({ ...input, seed: seedValue(seed) })).image)));
    expect(new Set(images).size).toBe(seeds.length);
    const again = await Promise.all(seeds.map(async (seed) => sha((await renderLocal({ ...input, seed: seedValue(seed) })).image)));
    expect(again).toEqual(images);
  });

  it('renders a seed the same as a number or a bigint', async () => {
    expect(sha((await renderLocal({ ...input, seed: 77 })).image)).toBe(sha((await renderLocal({ ...input, seed: 77n })).image));
  });
});
