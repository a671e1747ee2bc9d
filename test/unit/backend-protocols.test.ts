import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AigcError } from '../../pipeline/errors';
import { createAutomatic1111Backend } from '../../services/diffusion-gateway/backends/automatic1111';
import { createCogBackend } from '../../services/diffusion-gateway/backends/cog';
import { createComfyUIBackend } from '../../services/diffusion-gateway/backends/comfyui';
import { defaultTxt2ImgGraph } from '../../services/diffusion-gateway/backends/comfyui-graph';
import { createReplicateBackend } from '../../services/diffusion-gateway/backends/replicate';
import type { RenderInput } from '../../services/diffusion-gateway/backends/types';
import { startAutomatic1111Server } from '../servers/automatic1111';
import { startCogServer } from '../servers/cog';
import { startComfyUIServer } from '../servers/comfyui';
import { startReplicateServer } from '../servers/replicate';

/** Protocol details of single backends, beyond the shared contract. */
const input: RenderInput = { prompt: 'a koi pond', negativePrompt: '', seed: 99, width: 128, height: 128, requestId: 'proto-1' };
const fast = { attempts: 3, baseMs: 5 };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(AigcError);
    return (error as AigcError).code;
  }
  throw new Error('expected a rejection');
}

describe('automatic1111', () => {
  it('sends basic auth when configured; wrong credentials are a non-retryable BACKEND_UNAVAILABLE', async () => {
    const server = await startAutomatic1111Server({ auth: 'sd:pa55' });
    try {
      const ok = await createAutomatic1111Backend({ url: server.url, username: 'sd', password: 'pa55' }).render(input);
      expect(ok.image.length).toBeGreaterThan(100);
      const bad = createAutomatic1111Backend({ url: server.url, username: 'sd', password: 'wrong', retry: fast });
      await bad.render(input).catch((e: AigcError) => {
        expect(e.code).toBe('BACKEND_UNAVAILABLE');
        expect(e.retryable).toBe(false);
      });
      expect(server.calls.filter((c) => c.startsWith('POST /sdapi/v1/txt2img'))).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('reads the seed and sd_model_hash from the info JSON string', async () => {
    const server = await startAutomatic1111Server();
    try {
      const out = await createAutomatic1111Backend({ url: server.url }).render(input);
      expect(out.seed).toBe(99);
      expect(out.model).toEqual({ backend: 'automatic1111', id: 'v1-5-pruned-emaonly', version: 'v1.10.1', weightsHash: '6ce0161689' });
    } finally {
      await server.close();
    }
  });
});

describe('comfyui', () => {
  it('waits by polling /history when there is no websocket', async () => {
    const server = await startComfyUIServer({ websocket: false });
    server.faults.delayMs = 120;
    try {
      const out = await createComfyUIBackend({ url: server.url, pollIntervalMs: 30 }).render(input);
      expect((await sharp(out.image).metadata()).width).toBe(128);
      expect(server.calls.filter((c) => c.startsWith('GET /history/')).length).toBeGreaterThan(1);
      expect(server.calls.some((c) => c.startsWith('GET /view?'))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('finishes on the websocket event well before the next poll', async () => {
    const server = await startComfyUIServer();
    server.faults.delayMs = 50;
    try {
      const started = Date.now();
      const backend = createComfyUIBackend({ url: server.url, pollIntervalMs: 5_000 });
      // Concurrent renders each get their own socket (ComfyUI keeps one per client id).
      await Promise.all([backend.render(input), backend.render({ ...input, seed: 100 })]);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await server.close();
    }
  });

  it('sends a 64-bit seed as an exact JSON integer, which ComfyUI takes up to 2^64−1', async () => {
    const server = await startComfyUIServer();
    try {
      const backend = createComfyUIBackend({ url: server.url, pollIntervalMs: 30 });
      await backend.render({ ...input, seed: 2n ** 64n - 1n });
      expect(server.last?.seed).toBe(2n ** 64n - 1n);
      await backend.render({ ...input, seed: 2n ** 53n + 1n });
      expect(server.last?.seed).toBe(2n ** 53n + 1n);
      // KSampler's max: the gateway never sends more (seedBits 64), and ComfyUI would refuse it.
      const error = await backend.render({ ...input, seed: 2n ** 64n }).catch((e: AigcError) => e);
      expect((error as AigcError).code).toBe('INVALID_REQUEST');
      expect((error as AigcError).shortMessage).toMatch(
        /node 3 \(KSampler\): Value 18446744073709551616 bigger than max of 18446744073709551615/,
      );
    } finally {
      await server.close();
    }
  });

  it('surfaces node_errors as INVALID_REQUEST naming the node', async () => {
    const server = await startComfyUIServer();
    try {
      const graph = defaultTxt2ImgGraph('sd15.safetensors');
      graph['3'].inputs.seed = 'not-a-number {{seed}}';
      const backend = createComfyUIBackend({ url: server.url, graph });
      const error = await backend.render(input).catch((e: AigcError) => e);
      expect((error as AigcError).code).toBe('INVALID_REQUEST');
      expect((error as AigcError).shortMessage).toMatch(/node 3 \(KSampler\): Failed to convert an input value to a INT value/);
    } finally {
      await server.close();
    }
  });

  it('fills a user graph from a file and refuses one without {{seed}}', async () => {
    const server = await startComfyUIServer();
    const dir = mkdtempSync(join(tmpdir(), 'comfy-'));
    try {
      const graph = defaultTxt2ImgGraph('sdxl.safetensors');
      graph['6'].inputs.text = 'masterpiece, {{prompt}}';
      writeFileSync(join(dir, 'graph.json'), JSON.stringify(graph));
      const out = await createComfyUIBackend({ url: server.url, graphPath: join(dir, 'graph.json') }).render(input);
      expect(server.last?.prompt).toBe('masterpiece, a koi pond');
      expect(out.model.version).toBe('custom-graph');

      const noSeed = defaultTxt2ImgGraph('x');
      noSeed['3'].inputs.seed = 1;
      expect(await codeOf(createComfyUIBackend({ url: server.url, graph: noSeed }).render(input))).toBe('INVALID_REQUEST');
    } finally {
      await server.close();
    }
  });
});

describe('cog', () => {
  it('uses a prediction id derived from the request, so a retry joins the running prediction', async () => {
    const server = await startCogServer();
    server.faults.delayMs = 100;
    try {
      const backend = createCogBackend({ url: server.url });
      const [a, b] = await Promise.all([backend.render(input), backend.render(input)]);
      expect(a.image.equals(b.image)).toBe(true);
      const puts = server.calls.filter((c) => c.startsWith('PUT /predictions/'));
      expect(new Set(puts)).toEqual(new Set(['PUT /predictions/aigc-proto-1']));
    } finally {
      await server.close();
    }
  });

  it('is ready when the container is READY or BUSY, not while SETUP_FAILED', async () => {
    const server = await startCogServer();
    try {
      const backend = createCogBackend({ url: server.url });
      await expect(backend.ready()).resolves.toBeUndefined();
      server.status = 'SETUP_FAILED';
      expect(await codeOf(backend.ready())).toBe('BACKEND_UNAVAILABLE');
    } finally {
      await server.close();
    }
  });
});

describe('replicate', () => {
  it('creates version predictions on /v1/predictions and model ones on /v1/models/…/predictions', async () => {
    const server = await startReplicateServer({ token: 't' });
    try {
      const base = { token: 't', baseUrl: `${server.url}/v1` };
      const byVersion = await createReplicateBackend({
        ...base,
        model: 'stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b',
      }).render(input);
      expect(byVersion.model.version).toBe('39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b');
      await createReplicateBackend({ ...base, model: 'black-forest-labs/flux-schnell' }).render(input);
      expect(server.calls).toEqual(
        expect.arrayContaining(['POST /v1/predictions', 'POST /v1/models/black-forest-labs/flux-schnell/predictions']),
      );
    } finally {
      await server.close();
    }
  });

  it('falls back to polling when Prefer: wait ends before the prediction, and copies the file at once', async () => {
    const server = await startReplicateServer({ token: 't' });
    server.faults.delayMs = 1_300;
    try {
      const out = await createReplicateBackend({
        token: 't',
        baseUrl: `${server.url}/v1`,
        model: 'a/b',
        waitSeconds: 1,
        pollIntervalMs: 50,
      }).render(input);
      server.expireFiles();
      expect((await sharp(out.image).metadata()).width).toBe(128);
      expect(server.calls.filter((c) => c.startsWith('GET /v1/predictions/')).length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('backs off on 429 beyond the client’s own (sleepless) retries', async () => {
    const server = await startReplicateServer({ token: 't' });
    server.faults.busy = 8; // the client retries 5 times without sleeping; more than that needs our backoff
    try {
      await createReplicateBackend({ token: 't', baseUrl: `${server.url}/v1`, model: 'a/b', retry: { attempts: 4, baseMs: 20 } }).render(
        input,
      );
      expect(server.faults.busy).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('maps a bad token to a non-retryable BACKEND_UNAVAILABLE', async () => {
    const server = await startReplicateServer({ token: 't' });
    try {
      const backend = createReplicateBackend({ token: 'wrong', baseUrl: `${server.url}/v1`, model: 'a/b', retry: fast });
      const error = await backend.render(input).catch((e: AigcError) => e);
      expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: false });
    } finally {
      await server.close();
    }
  });
});
