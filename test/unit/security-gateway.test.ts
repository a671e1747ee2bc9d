import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { loadGatewayConfig } from '../../services/diffusion-gateway/config';
import { generate, type RunningGateway, startGateway } from '../helpers/gateway';
import { slowBody, slowClient, slowHeaders } from '../helpers/slow-client';
import { sleep } from '../helpers/wait';

// The gateway's door against callers that are not the node: unknown keys, floods, huge bodies, slow senders and
// browsers. Its limits are shortened here (1.5 s to send a request) so the slow senders are cut within the test.
const KEY = 'gateway-key-0123456789abcdef';
const small = { prompt: 'a fox', seed: 1, width: 64, height: 64 };
type ErrorBody = { error: { code: string; message: string; retryable: boolean; fields?: Record<string, string> } };

// Renders take longer than a client has to send its request: the answer must still arrive.
const local = createLocalBackend();
const slowRenders: DiffusionBackend = {
  ...local,
  render: async (input, signal) => {
    await sleep(2_500);
    return local.render(input, signal);
  },
};

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startGateway({
    backend: slowRenders,
    apiKeys: [KEY],
    limits: { headersTimeoutMs: 1_500, requestTimeoutMs: 1_500, keepAliveTimeoutMs: 1_000 },
  });
});
afterAll(() => gw?.close());

const auth = { authorization: `Bearer ${KEY}` };
const host = () => new URL(gw.url).host;

describe('API keys', () => {
  it('answers 401 UNAUTHORIZED without a key, with an unknown one, and with a key in another scheme', async () => {
    const refused: Record<string, string>[] = [
      {},
      { authorization: 'Bearer gateway-key-0123456789abcdeX' },
      { authorization: `Basic ${KEY}` },
    ];
    for (const headers of refused) {
      const res = await generate(gw.url, small, headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    }
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a key has used its burst, and other keys go on', async () => {
    const other = 'gateway-key-other-0123456789';
    const limited = await startGateway({ backend: local, apiKeys: [KEY, other], limits: { ratePerMinute: 6, burst: 3 } });
    try {
      const models = (key: string) => fetch(`${limited.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      for (let i = 0; i < 3; i++) expect((await models(KEY)).status).toBe(200);
      const res = await models(KEY);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
      expect((await models(other)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('request size and time', () => {
  it('refuses a body over 2 MB with 400 INVALID_REQUEST naming `body`', async () => {
    const res = await generate(gw.url, { ...small, prompt: 'x'.repeat(3 * 1024 * 1024) }, auth);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.fields?.body).toMatch(/at most 2097152 bytes of JSON/);
  });

  it('disconnects a client that sends its headers a line at a time, with 408, long before it would finish', async () => {
    const slow = await slowHeaders(gw.url, '/v1/generate');
    expect(slow.closedAfterMs).toBeLessThan(6_000);
    expect(slow.sent).toBeLessThan(20);
    expect(slow.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('disconnects a client that sends its body a byte at a time', async () => {
    const slow = await slowBody(gw.url, '/v1/generate', KEY);
    expect(slow.closedAfterMs).toBeLessThan(6_000);
    expect(slow.sent).toBeLessThan(20);
    expect(slow.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('still answers a render that takes longer than the request timeout: it bounds receiving the request only', async () => {
    const started = performance.now();
    const res = await generate(gw.url, small, { ...auth, accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThan(2_000);
  });

  it('closes an idle keep-alive connection after its keep-alive timeout', async () => {
    const idle = await slowClient({
      url: gw.url,
      head: `GET /healthz HTTP/1.1\r\nHost: ${host()}\r\nConnection: keep-alive\r\n\r\n`,
      piece: () => '',
      count: 20,
      everyMs: 500,
    });
    expect(idle.answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(idle.closedAfterMs).toBeLessThan(3_500); // Node's own default would be 5 s
  });
});

describe('CORS', () => {
  it('sends no CORS headers: the gateway is called server to server, so browsers keep every origin out', async () => {
    const origin = { origin: 'https://mint.example.com' };
    const post = await generate(gw.url, { ...small, width: 65 }, { ...auth, ...origin });
    const preflight = await fetch(`${gw.url}/v1/generate`, {
      method: 'OPTIONS',
      headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    const health = await fetch(`${gw.url}/healthz`, { headers: origin });
    for (const res of [post, preflight, health]) {
      const names: string[] = [];
      res.headers.forEach((_value, name) => name.startsWith('access-control-') && names.push(name));
      expect(names).toEqual([]);
    }
    expect(preflight.status).toBeGreaterThanOrEqual(400);
  });
});

describe('settings', () => {
  it('reads the timeouts and the burst from env vars, with defaults of 10 s, 30 s and 5 s', () => {
    expect(loadGatewayConfig({ env: {} }).limits).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
    });
    const { limits } = loadGatewayConfig({
      env: {
        GATEWAY_HEADERS_TIMEOUT_MS: '2000',
        GATEWAY_REQUEST_TIMEOUT_MS: '4000',
        GATEWAY_KEEP_ALIVE_TIMEOUT_MS: '1000',
        GATEWAY_RATE_PER_MINUTE: '120',
        GATEWAY_BURST: '20',
      },
    });
    expect(limits).toMatchObject({
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 4_000,
      keepAliveTimeoutMs: 1_000,
      ratePerMinute: 120,
      burst: 20,
    });
  });

  it('refuses timeouts the server could not keep, naming the env var', () => {
    expect(() => loadGatewayConfig({ env: { GATEWAY_HEADERS_TIMEOUT_MS: '40000' } })).toThrow(
      /limits\.headersTimeoutMs \(GATEWAY_HEADERS_TIMEOUT_MS\): must be at most limits\.requestTimeoutMs/,
    );
    expect(() => loadGatewayConfig({ env: { GATEWAY_REQUEST_TIMEOUT_MS: '0' } })).toThrow(
      /limits\.requestTimeoutMs \(GATEWAY_REQUEST_TIMEOUT_MS\)/,
    );
    expect(() => loadGatewayConfig({ env: { GATEWAY_KEEP_ALIVE_TIMEOUT_MS: 'soon' } })).toThrow(/GATEWAY_KEEP_ALIVE_TIMEOUT_MS/);
    expect(() => loadGatewayConfig({ env: { GATEWAY_BURST: '0' } })).toThrow(/limits\.burst \(GATEWAY_BURST\)/);
  });
});
