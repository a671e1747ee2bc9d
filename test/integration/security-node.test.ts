import { Wallet } from 'ethers';
import { loadConfig } from '../../pipeline/config';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import type { MintStatus } from '../../pipeline/sponsored/status';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { type NodeFixture, startNodeFixture, template } from '../helpers/node-stack';
import { slowBody, slowHeaders } from '../helpers/slow-client';
import { readStatusStream } from '../helpers/sse';
import { sleep, until } from '../helpers/wait';

// The node's HTTP API (POST /v1/mints and the /v1 status routes) against hostile callers, on the real stack. A
// client gets 1.5 s to send its request here (10 s by default), so the slow senders are cut within the test.
jest.setTimeout(120_000);

const KEY = 'security-key-0123456789abcdef';
const KEY_RATE = 'security-rate-0123456789abcdef';
const KEY_OTHER = 'security-other-0123456789abcdef';
const KEY_SSE = 'security-sse-0123456789abcdef';
const ORIGIN = 'https://mint.example.com';
const REQUEST_TIMEOUT_MS = 1_500;
type ErrorBody = { error: { code: string; message: string; retryable: boolean; fields?: Record<string, string> } };

// Renders wait until a test lets them go, so a mint's event stream stays open as long as the test needs.
const local = createLocalBackend();
let rendersWaiting = 0;
let letRendersGo!: () => void;
const go = new Promise<void>((resolve) => (letRendersGo = resolve));
const heldRenders: DiffusionBackend = {
  ...local,
  render: async (input, signal) => {
    rendersWaiting++;
    await go;
    return local.render(input, signal);
  },
};

let f: NodeFixture;
let node: RunningNode;
let api: string;
beforeAll(async () => {
  f = await startNodeFixture({ backend: heldRenders });
  node = await startNode({
    config: f.config({
      api: { keys: [KEY, KEY_RATE, KEY_OTHER, KEY_SSE], corsOrigins: [ORIGIN], ratePerMinute: 6, burst: 3 },
      http: { port: 0, headersTimeoutMs: REQUEST_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: 1_000 },
    }),
    template,
    logger: createLogger({ level: 'silent' }),
  });
  api = node.httpUrl!;
});
afterAll(async () => {
  letRendersGo?.();
  await node?.stop();
  await f?.stop();
});

const postMint = (body: string, headers: Record<string, string>) =>
  fetch(`${api}/v1/mints`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API keys', () => {
  it('answers POST /v1/mints with 401 UNAUTHORIZED without a key, with an unknown one, and with a key in another scheme', async () => {
    for (const headers of [{}, bearer('security-key-0123456789abcdeX'), { authorization: `Basic ${KEY}` }, { authorization: 'Bearer ' }]) {
      const res = await postMint('{}', headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    }
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a key has used its burst, before reading the body; other keys go on', async () => {
    for (let i = 0; i < 3; i++) expect((await postMint('{}', bearer(KEY_RATE))).status).toBe(400); // counted, though invalid
    const res = await postMint('{}', bearer(KEY_RATE));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(error.message).toMatch(/6 mints a minute/);
    expect((await postMint('not even JSON', bearer(KEY_RATE))).status).toBe(429);
    expect((await postMint('{}', bearer(KEY_OTHER))).status).toBe(400);
  });

  it('is on by default at 600 a minute with bursts of 60, and its settings are checked', () => {
    expect(loadConfig({ env: {} }).api).toMatchObject({ ratePerMinute: 600, burst: 60 });
    expect(loadConfig({ env: { AIGC_API_RATE_PER_MINUTE: '0', AIGC_API_BURST: '5' } }).api).toMatchObject({ ratePerMinute: 0, burst: 5 });
    expect(() => loadConfig({ env: { AIGC_API_RATE_PER_MINUTE: '-1' } })).toThrow(/api\.ratePerMinute \(AIGC_API_RATE_PER_MINUTE\)/);
    expect(() => loadConfig({ env: { AIGC_API_BURST: '0' } })).toThrow(/api\.burst \(AIGC_API_BURST\)/);
    expect(() => loadConfig({ env: { AIGC_API_BURST: '2.5' } })).toThrow(/api\.burst \(AIGC_API_BURST\)/);
  });
});

describe('request size and time', () => {
  it('refuses a body over 64 KiB with 400 INVALID_REQUEST naming `body`', async () => {
    const res = await postMint(JSON.stringify({ to: Wallet.createRandom().address, prompt: 'x'.repeat(100_000) }), bearer(KEY));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.fields?.body).toMatch(/at most 65536 bytes of JSON/);
  });

  it('disconnects a client that sends its headers a line at a time, with 408, long before it would finish', async () => {
    const slow = await slowHeaders(api, '/v1/mints');
    expect(slow.closedAfterMs).toBeLessThan(6_000);
    expect(slow.sent).toBeLessThan(20);
    expect(slow.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('disconnects a client that sends its body a byte at a time', async () => {
    const slow = await slowBody(api, '/v1/mints', KEY);
    expect(slow.closedAfterMs).toBeLessThan(6_000);
    expect(slow.sent).toBeLessThan(20);
    expect(slow.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('keeps an event stream open far past the request timeout: it bounds receiving the request only', async () => {
    const posted = await postMint(JSON.stringify({ to: Wallet.createRandom().address, prompt: 'a lantern in the fog' }), bearer(KEY_SSE));
    expect(posted.status).toBe(202);
    const { links } = (await posted.json()) as { links: { events: string } };
    const opened = performance.now();
    const stream = readStatusStream<MintStatus>(`${api}${links.events}`, 90_000);
    await until('the render to be held', () => rendersWaiting > 0);
    // Past the request timeout and a few of the server's checks of it, then let the render (and the mint) finish.
    await sleep(Math.max(0, 3 * REQUEST_TIMEOUT_MS - (performance.now() - opened)));
    letRendersGo();
    const { statuses } = await stream;
    expect(performance.now() - opened).toBeGreaterThan(3 * REQUEST_TIMEOUT_MS);
    expect(statuses.map((s) => s.status)).toContain('rendering');
    expect(statuses.at(-1)!.status).toBe('minted');
  });
});

describe('CORS', () => {
  const from = (origin: string, init: RequestInit = {}) =>
    fetch(`${api}/v1/mints/m-00000000000000000000000000000000`, { ...init, headers: { origin, ...init.headers } });
  const preflight = (origin: string) =>
    fetch(`${api}/v1/mints`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
  const corsHeaders = (res: Response) => {
    const names: string[] = [];
    res.headers.forEach((_value, name) => name.startsWith('access-control-') && names.push(name));
    return names;
  };

  it('echoes a configured origin, also on error answers, so the mint page can read them', async () => {
    const res = await from(ORIGIN);
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('vary')).toMatch(/Origin/);
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });

  it('sends a foreign origin no CORS headers, on calls and on preflights', async () => {
    expect(corsHeaders(await from('https://evil.example.net'))).toEqual([]);
    expect(corsHeaders(await from('https://mint.example.com.evil.net'))).toEqual([]);
    expect(corsHeaders(await preflight('https://evil.example.net'))).toEqual([]);
  });
});

describe('settings', () => {
  it('reads the server timeouts from env vars, defaults 10 s / 30 s / 5 s, and refuses headers slower than the request', () => {
    expect(loadConfig({ env: {} }).http).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
    const { http } = loadConfig({
      env: { AIGC_HTTP_HEADERS_TIMEOUT_MS: '2000', AIGC_HTTP_REQUEST_TIMEOUT_MS: '4000', AIGC_HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' },
    });
    expect(http).toMatchObject({ headersTimeoutMs: 2_000, requestTimeoutMs: 4_000, keepAliveTimeoutMs: 1_000 });
    expect(() => loadConfig({ env: { AIGC_HTTP_HEADERS_TIMEOUT_MS: '40000' } })).toThrow(
      /http\.headersTimeoutMs \(AIGC_HTTP_HEADERS_TIMEOUT_MS\): must be at most http\.requestTimeoutMs/,
    );
    expect(() => loadConfig({ env: { AIGC_HTTP_REQUEST_TIMEOUT_MS: '0' } })).toThrow(
      /http\.requestTimeoutMs \(AIGC_HTTP_REQUEST_TIMEOUT_MS\)/,
    );
  });
});
