import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { createCogBackend } from '../../services/diffusion-gateway/backends/cog';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import { loadGatewayConfig } from '../../services/diffusion-gateway/config';
import { generate, startGateway } from '../helpers/gateway';
import { sleep, until } from '../helpers/wait';
import { startCogServer } from '../servers/cog';

const KEY = 'test-key-0123456789abcdef';
const auth = { authorization: `Bearer ${KEY}` };
const small = { prompt: 'a red fox', seed: 3, width: 64, height: 64 };
type ErrorBody = { error: { code: string; retryable: boolean; message: string } };

describe('gateway auth and rate limit', () => {
  it('refuses missing and unknown keys with 401, keeps probes open', async () => {
    const gw = await startGateway({ backend: createLocalBackend(), apiKeys: [KEY] });
    try {
      expect((await generate(gw.url, small)).status).toBe(401);
      expect((await generate(gw.url, small, { authorization: 'Bearer nope' })).status).toBe(401);
      expect((await generate(gw.url, small, { authorization: KEY })).status).toBe(401);
      expect((await generate(gw.url, small, auth)).status).toBe(200);
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
    } finally {
      await gw.close();
    }
  });

  it('limits each key with 429 and Retry-After, independently of other keys', async () => {
    const other = 'other-key-0123456789abcdef';
    const gw = await startGateway({ backend: createLocalBackend(), apiKeys: [KEY, other], limits: { ratePerMinute: 6, burst: 2 } });
    try {
      expect((await generate(gw.url, small, auth)).status).toBe(200);
      expect((await generate(gw.url, small, auth)).status).toBe(200);
      const limited = await generate(gw.url, small, auth);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await limited.json()) as ErrorBody).error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
      expect((await generate(gw.url, small, { authorization: `Bearer ${other}` })).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('gateway queue, timeout, readiness and shutdown', () => {
  it('queues beyond the concurrency limit and reports queueMs; refuses past the queue limit', async () => {
    const cog = await startCogServer();
    cog.faults.delayMs = 200;
    const backend = createCogBackend({ url: cog.url, retry: { attempts: 1 } });
    const gw = await startGateway({ backend, limits: { concurrency: 1, queueLimit: 1 } });
    try {
      const first = generate(gw.url, { ...small, seed: 1 }, { accept: 'application/json' });
      await until('the render at cog', () => cog.last !== undefined, 5_000, 10);
      const second = generate(gw.url, { ...small, seed: 2 }, { accept: 'application/json' });
      await sleep(30); // no event marks a request as queued in the gateway: give the second one time to arrive
      const third = await generate(gw.url, { ...small, seed: 3 });
      expect(third.status).toBe(503);
      expect(((await third.json()) as ErrorBody).error.code).toBe('BACKEND_BUSY');
      expect((await first).status).toBe(200);
      const queued = (await (await second).json()) as { timings: { queueMs: number } };
      expect(queued.timings.queueMs).toBeGreaterThan(100);
    } finally {
      await gw.close();
      await cog.close();
    }
  });

  it('is not ready while the backend is starting or unreachable', async () => {
    const cog = await startCogServer();
    const gw = await startGateway({ backend: createCogBackend({ url: cog.url }) });
    try {
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
      cog.status = 'STARTING';
      const res = await fetch(`${gw.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).error.message).toMatch(/STARTING/);
      await cog.close();
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    } finally {
      await gw.close();
    }
  });

  it('shuts down gracefully: running renders finish, new ones are refused', async () => {
    const cog = await startCogServer();
    cog.faults.delayMs = 300;
    const gw = await startGateway({ backend: createCogBackend({ url: cog.url }) });
    try {
      const running = generate(gw.url, small);
      await until('the render at cog', () => cog.last !== undefined, 5_000, 10);
      const stopped = gw.gateway.shutdown({ server: gw.server, graceMs: 5_000 });
      const late = await generate(gw.url, small).catch(() => undefined);
      // Either the listener is already closed (connection refused) or the gateway answers 503.
      if (late) expect(late.status).toBe(503);
      expect((await running).status).toBe(200);
      await stopped;
    } finally {
      await cog.close();
    }
  });

  it('cancels renders still running when the shutdown grace ends', async () => {
    const cog = await startCogServer();
    cog.faults.hang = true;
    const gw = await startGateway({ backend: createCogBackend({ url: cog.url }) });
    try {
      const running = generate(gw.url, small).catch(() => undefined);
      await until('the render at cog', () => cog.last !== undefined, 5_000, 10);
      await gw.gateway.shutdown({ server: gw.server, graceMs: 100 });
      const res = await running;
      if (res) expect(res.status).toBe(503);
      await until('the cancel at cog', () => cog.cancelled.length > 0, 5_000, 10);
    } finally {
      await cog.close();
    }
  });
});

describe('gateway output and policy', () => {
  it('gives byte-identical images for the same request with the local backend', async () => {
    const a = await startGateway({ backend: createLocalBackend() });
    const b = await startGateway({ backend: createLocalBackend() });
    try {
      const sha = async (url: string) =>
        createHash('sha256')
          .update(Buffer.from(await (await generate(url, small)).arrayBuffer()))
          .digest('hex');
      const first = await sha(a.url);
      expect(await sha(a.url)).toBe(first);
      expect(await sha(b.url)).toBe(first);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it.each(['png', 'webp'] as const)('writes the provenance as XMP into %s and strips nothing else in', async (format) => {
    const gw = await startGateway({ backend: createLocalBackend() });
    try {
      const res = await generate(gw.url, { ...small, format, requestId: 'req-42' });
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect(meta.format).toBe(format);
      const xmp = meta.xmp!.toString('utf8');
      expect(xmp).toContain('aigc:requestId="req-42"');
      expect(xmp).toContain('aigc:seed="3" aigc:seedBits="256"');
      expect(xmp).toContain('local/local-procedural@3');
      expect(xmp).toMatch(/aigc:promptSha256="[0-9a-f]{64}"/);
      expect(meta.exif).toBeUndefined();
    } finally {
      await gw.close();
    }
  });

  it('encodes AVIF with the requested quality and reports the encoded bytes', async () => {
    const gw = await startGateway({ backend: createLocalBackend() });
    try {
      const res = await generate(gw.url, { ...small, format: 'avif', quality: 40 }, { accept: 'application/json' });
      const body = (await res.json()) as { image: string; mime: string; bytes: number; params: { quality: number } };
      expect(body.mime).toBe('image/avif');
      expect(Buffer.from(body.image, 'base64').length).toBe(body.bytes);
      expect(body.params.quality).toBe(40);
    } finally {
      await gw.close();
    }
  });

  it('applies the prompt frame, the configured negative prompt and truncation', async () => {
    const gw = await startGateway({
      backend: createLocalBackend(),
      prompt: { frame: 'ukiyo-e print of {prompt}', negativePrompt: 'text, watermark', overflow: 'truncate', maxTokens: 20 },
    });
    try {
      const res = await generate(gw.url, { ...small, prompt: 'a fox', negativePrompt: 'blurry' }, { accept: 'application/json' });
      const body = (await res.json()) as { prompt: string; params: { negativePrompt: string; truncated: boolean; promptTokens: number } };
      expect(body.prompt).toBe('ukiyo-e print of a fox');
      expect(body.params.negativePrompt).toBe('text, watermark, blurry');
      const long = (await (
        await generate(gw.url, { ...small, prompt: 'red fox '.repeat(50) }, { accept: 'application/json' })
      ).json()) as typeof body;
      expect(long.params.truncated).toBe(true);
      expect(long.params.promptTokens).toBeLessThanOrEqual(20);
    } finally {
      await gw.close();
    }
  });

  it('exposes Prometheus metrics', async () => {
    const gw = await startGateway({ backend: createLocalBackend() });
    try {
      await generate(gw.url, small);
      await generate(gw.url, { ...small, width: 65 });
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      expect(text).toMatch(/gateway_requests_total\{code="OK",backend="local"\} 1/);
      expect(text).toContain('gateway_stage_seconds_bucket');
    } finally {
      await gw.close();
    }
  });
});

describe('gateway config', () => {
  it('reads the backend and limits from env vars', () => {
    const config = loadGatewayConfig({
      env: {
        GATEWAY_BACKEND: 'cog',
        GATEWAY_BACKEND_URL: 'http://127.0.0.1:5000',
        GATEWAY_CONCURRENCY: '4',
        GATEWAY_BLOCK_LIST: 'a, b',
        GATEWAY_PROMPT_OVERFLOW: 'truncate',
      },
    });
    expect(config.backend).toMatchObject({ name: 'cog', url: 'http://127.0.0.1:5000' });
    expect(config.limits.concurrency).toBe(4);
    expect(config.prompt).toMatchObject({ blockList: ['a', 'b'], overflow: 'truncate' });
  });

  it('names each bad setting', () => {
    expect(() => loadGatewayConfig({ env: { GATEWAY_BACKEND: 'replicate', GATEWAY_PORT: 'x' } })).toThrow(
      /port.*backend\.token|backend\.token.*port/s,
    );
    expect(() => loadGatewayConfig({ env: { GATEWAY_BACKEND: 'automatic1111' } })).toThrow(/backend\.url/);
    expect(() => loadGatewayConfig({ env: { GATEWAY_API_KEYS: 'short' } })).toThrow(/apiKeys\.0/);
  });

  it('refuses to listen beyond loopback without API keys', () => {
    expect(() => loadGatewayConfig({ env: { GATEWAY_HOST: '0.0.0.0' } })).toThrow(
      /apiKeys \(GATEWAY_API_KEYS\): required when host is not a loopback address/,
    );
    expect(loadGatewayConfig({ env: { GATEWAY_HOST: '0.0.0.0', GATEWAY_API_KEYS: 'a-key-of-sixteen-chars' } }).host).toBe('0.0.0.0');
  });
});
