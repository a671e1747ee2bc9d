import sharp from 'sharp';
import { AigcError } from '../../pipeline/errors';
import { createAutomatic1111Backend } from '../../services/diffusion-gateway/backends/automatic1111';
import { createCogBackend } from '../../services/diffusion-gateway/backends/cog';
import { createComfyUIBackend } from '../../services/diffusion-gateway/backends/comfyui';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import { createReplicateBackend } from '../../services/diffusion-gateway/backends/replicate';
import type { DiffusionBackend, RenderInput } from '../../services/diffusion-gateway/backends/types';
import { generate, startGateway } from '../helpers/gateway';
import { sleep, until } from '../helpers/wait';
import { startAutomatic1111Server } from '../servers/automatic1111';
import { startCogServer } from '../servers/cog';
import { startComfyUIServer } from '../servers/comfyui';
import type { WireServer } from '../servers/common';
import { startReplicateServer } from '../servers/replicate';

/**
 * One contract for every backend: the remote ones run their production client code against a local server that
 * speaks the backend's wire protocol (test/servers/), with faults injected on the server side.
 */
type Started = { backend: DiffusionBackend; server?: WireServer };
const retry = { attempts: 4, baseMs: 5 };

const CASES: Array<[string, () => Promise<Started>]> = [
  ['local', async () => ({ backend: createLocalBackend() })],
  [
    'automatic1111',
    async () => {
      const server = await startAutomatic1111Server();
      return { server, backend: createAutomatic1111Backend({ url: server.url, retry }) };
    },
  ],
  [
    'comfyui',
    async () => {
      const server = await startComfyUIServer();
      return { server, backend: createComfyUIBackend({ url: server.url, pollIntervalMs: 50, retry }) };
    },
  ],
  [
    'cog',
    async () => {
      const server = await startCogServer();
      return { server, backend: createCogBackend({ url: server.url, model: 'sd15', version: '1', retry }) };
    },
  ],
  [
    'replicate',
    async () => {
      const server = await startReplicateServer({ token: 'r8_test' });
      return {
        server,
        backend: createReplicateBackend({
          token: 'r8_test',
          baseUrl: `${server.url}/v1`,
          model: 'stability-ai/sdxl',
          waitSeconds: 1,
          pollIntervalMs: 20,
          retry,
        }),
      };
    },
  ],
];

const input: RenderInput = {
  prompt: 'a lighthouse at dusk',
  negativePrompt: 'blurry',
  seed: 1234,
  width: 192,
  height: 128,
  requestId: 'contract-1',
};

/** The seed width each backend declares: all of the request's 256 bits for the procedural renderer, its native width for the others. */
const SEED_BITS: Record<string, number> = { local: 256, automatic1111: 32, comfyui: 64, cog: 32, replicate: 32 };

async function rejection(p: Promise<unknown>): Promise<AigcError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(AigcError);
    return error as AigcError;
  }
  throw new Error('expected a rejection');
}

describe.each(CASES)('backend contract: %s', (name, start) => {
  let backend: DiffusionBackend;
  let server: WireServer | undefined;
  const remote = name !== 'local';
  // Wire and failure-injection cases exist only for backends behind a wire protocol; for `local` they are not declared.
  const remoteIt = (remote ? it : () => undefined) as typeof it;

  beforeEach(async () => {
    ({ backend, server } = await start());
  });
  afterEach(async () => {
    await server?.close();
  });

  it('declares its name, models and capabilities', () => {
    expect(backend.name).toBe(name);
    expect(backend.models.length).toBeGreaterThan(0);
    for (const m of backend.models) expect(m.backend).toBe(name);
    expect(backend.capabilities.sizes.min).toBeLessThanOrEqual(64);
    expect(backend.capabilities.deterministic).toBe(backend.deterministic);
    expect(backend.capabilities.maxPromptTokens).toBeGreaterThanOrEqual(75);
    expect(backend.capabilities.seedBits).toBe(SEED_BITS[name]);
  });

  it('is ready when reachable', async () => {
    await expect(backend.ready()).resolves.toBeUndefined();
  });

  it('renders a decodable image of the requested size with model info', async () => {
    const out = await backend.render(input);
    const meta = await sharp(out.image).metadata();
    expect([meta.width, meta.height]).toEqual([192, 128]);
    expect(out.mime).toMatch(/^image\//);
    expect(out.model.backend).toBe(name);
    expect(out.model.id).toBeTruthy();
  });

  remoteIt('sends the prompt, negative prompt, seed and size on the wire', async () => {
    await backend.render(input);
    expect(server!.last).toEqual({ prompt: input.prompt, negativePrompt: input.negativePrompt, seed: 1234n, width: 192, height: 128 });
  });

  remoteIt('retries a busy backend with backoff and then succeeds', async () => {
    server!.faults.busy = 2;
    const out = await backend.render(input);
    expect(out.image.length).toBeGreaterThan(100);
    expect(server!.faults.busy).toBe(0);
  });

  remoteIt('answers BACKEND_BUSY (retryable) when the backend stays busy', async () => {
    server!.faults.busy = 1_000;
    const error = await rejection(backend.render(input));
    expect(error.code).toBe('BACKEND_BUSY');
    expect(error.retryable).toBe(true);
  });

  remoteIt('answers BACKEND_FAILED (not retryable) when the job fails', async () => {
    server!.faults.fail = true;
    const error = await rejection(backend.render(input));
    expect(error.code).toBe('BACKEND_FAILED');
    expect(error.retryable).toBe(false);
  });

  remoteIt('answers BACKEND_UNAVAILABLE (retryable) when unreachable, and is not ready', async () => {
    await server!.close();
    const error = await rejection(backend.render(input));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect((await rejection(backend.ready())).code).toBe('BACKEND_UNAVAILABLE');
  });

  remoteIt('cancels the backend job when the signal aborts', async () => {
    server!.faults.hang = true;
    const controller = new AbortController();
    const pending = backend.render(input, controller.signal);
    await until('the render at the server', () => server!.last !== undefined, 5_000, 10);
    await sleep(50); // the backend learns the job's id after the server saw it (nothing to wait on): abort after that
    controller.abort();
    await rejection(pending);
    await until('the cancel at the server', () => server!.cancelled.length > 0, 5_000, 10);
  });

  describe('behind the gateway', () => {
    it('serves the image as bytes with metadata headers, and as JSON', async () => {
      const gw = await startGateway({ backend });
      try {
        const req = { prompt: 'a lighthouse at dusk', seed: 7, width: 128, height: 128, format: 'webp' };
        const res = await generate(gw.url, req);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/webp');
        expect(JSON.parse(res.headers.get('x-model')!).backend).toBe(name);
        expect(Object.keys(JSON.parse(res.headers.get('x-timings')!))).toEqual(['queueMs', 'renderMs', 'postMs']);
        const bytes = Buffer.from(await res.arrayBuffer());
        expect((await sharp(bytes).metadata()).format).toBe('webp');

        const json = (await (await generate(gw.url, { ...req, format: 'png' }, { accept: 'application/json' })).json()) as {
          image: string;
          bytes: number;
        };
        expect(json).toMatchObject({
          mime: 'image/png',
          seed: '7',
          seedBits: SEED_BITS[name],
          width: 128,
          height: 128,
          model: { backend: name },
          params: { format: 'png' },
        });
        expect(Buffer.from(json.image, 'base64').length).toBe(json.bytes);
      } finally {
        await gw.close();
      }
    });

    it.each([
      ['all ones (2^256−1)', `0x${'f'.repeat(64)}`],
      ['a pattern above 2^64', `0x${'0123456789abcdef'.repeat(4)}`],
      ['a decimal string', (2n ** 200n + 2n ** 63n + 5n).toString()],
    ])('gives the backend the seed mod 2^seedBits and reports it: %s', async (_what, seed) => {
      const bits = SEED_BITS[name];
      const expected = BigInt(seed) % 2n ** BigInt(bits);
      const gw = await startGateway({ backend });
      try {
        const json = (await (
          await generate(gw.url, { prompt: 'a lighthouse at dusk', seed, width: 64, height: 64 }, { accept: 'application/json' })
        ).json()) as Record<string, unknown>;
        expect({ seed: json.seed, seedBits: json.seedBits }).toEqual({ seed: expected.toString(), seedBits: bits });
        if (server) expect(server.last?.seed).toBe(expected);
        const res = await generate(gw.url, { prompt: 'a lighthouse at dusk', seed, width: 64, height: 64 });
        expect([res.status, res.headers.get('x-seed'), res.headers.get('x-seed-bits')]).toEqual([200, expected.toString(), String(bits)]);
      } finally {
        await gw.close();
      }
    });

    remoteIt('cancels the backend job when the client disconnects', async () => {
      server!.faults.hang = true;
      const gw = await startGateway({ backend });
      try {
        const controller = new AbortController();
        const pending = generate(gw.url, { prompt: 'a slow one', seed: 1, width: 64, height: 64 }, {}, controller.signal).catch(
          () => 'aborted',
        );
        await until('the render at the server', () => server!.last !== undefined, 5_000, 10);
        await sleep(50); // the backend learns the job's id after the server saw it (nothing to wait on): abort after that
        controller.abort();
        expect(await pending).toBe('aborted');
        await until('the cancel at the server', () => server!.cancelled.length > 0, 5_000, 10);
      } finally {
        await gw.close();
      }
    });

    remoteIt('times out with 504 BACKEND_TIMEOUT and cancels the job', async () => {
      server!.faults.hang = true;
      const gw = await startGateway({ backend, limits: { timeoutMs: 300 } });
      try {
        const res = await generate(gw.url, { prompt: 'a slow one', seed: 1, width: 64, height: 64 });
        expect(res.status).toBe(504);
        expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'BACKEND_TIMEOUT', retryable: true });
        await until('the cancel at the server', () => server!.cancelled.length > 0, 5_000, 10);
      } finally {
        await gw.close();
      }
    });

    remoteIt('maps a failed job to 502 BACKEND_FAILED, not retryable', async () => {
      server!.faults.fail = true;
      const gw = await startGateway({ backend });
      try {
        const res = await generate(gw.url, { prompt: 'x', seed: 1, width: 64, height: 64 });
        expect(res.status).toBe(502);
        expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'BACKEND_FAILED', retryable: false });
      } finally {
        await gw.close();
      }
    });
  });
});
