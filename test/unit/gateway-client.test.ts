import { createServer, type Server } from 'node:http';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import { AigcError } from '../../pipeline/errors';
import { createGatewayClient } from '../../pipeline/gateway-client';
import { generate, type RunningGateway, startGateway } from '../helpers/gateway';

let gateway: RunningGateway;
beforeAll(async () => {
  // a token budget large enough for a prompt whose percent-encoding outgrows a header
  gateway = await startGateway({ backend: createLocalBackend(), prompt: { maxTokens: 4_000 } });
});
afterAll(() => gateway.close());

const request = { prompt: 'a lighthouse at dawn — «soft» light ✨', negativePrompt: 'text', seed: 42, width: 128, height: 128 };

describe('gateway client (the node side of POST /v1/generate)', () => {
  it('reads the image answer (bytes + headers) into the same result as the JSON answer', async () => {
    const client = createGatewayClient({ url: gateway.url, timeoutMs: 10_000 });
    const fromBytes = await client.generate(request);
    const json = (await (await generate(gateway.url, request, { accept: 'application/json' })).json()) as Record<string, unknown>;
    expect(fromBytes.image.toString('base64')).toBe(json.image);
    const { image: _bytes, ...meta } = fromBytes;
    const { image: _b64, ...jsonMeta } = json;
    // timings differ from one render to the next; everything else must be identical, the non-ASCII prompt included
    expect({ ...meta, timings: undefined }).toEqual({ ...jsonMeta, timings: undefined });
    expect(meta.prompt).toContain('«soft» light ✨');
    expect(Object.keys(meta.timings)).toEqual(['queueMs', 'renderMs', 'postMs']);
  });

  it('sends a bigint seed as its decimal string and reads back the seed used as a decimal string', async () => {
    const client = createGatewayClient({ url: gateway.url, timeoutMs: 10_000 });
    const seed = 2n ** 256n - 1n;
    const fromBigint = await client.generate({ ...request, seed });
    expect({ seed: fromBigint.seed, seedBits: fromBigint.seedBits }).toEqual({ seed: seed.toString(), seedBits: 256 });
    const fromHex = await client.generate({ ...request, seed: `0x${'f'.repeat(64)}` });
    expect(fromHex.sha256).toBe(fromBigint.sha256);
    expect((await client.generate(request)).seed).toBe('42');
  });

  it('takes the JSON answer the gateway gives for a prompt too long for a header', async () => {
    const client = createGatewayClient({ url: gateway.url, timeoutMs: 10_000 });
    const long = { ...request, prompt: `${'日本 '.repeat(420)}fin` };
    const res = await generate(gateway.url, long, { accept: 'image/*' });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const result = await client.generate(long);
    expect(encodeURIComponent(result.prompt).length).toBeGreaterThan(8 * 1024);
    expect(result.image.subarray(1, 4).toString()).toBe('PNG');
  });

  it('reports the refusal of a prompt that is not valid Unicode (a lone surrogate) as final, naming why', async () => {
    const client = createGatewayClient({ url: gateway.url, timeoutMs: 10_000 });
    const error = await client.generate({ ...request, prompt: 'a fox \ud800 at night' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AigcError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(/lone UTF-16 surrogate/);
  });

  it('refuses an answer that is not from an aigc-nft gateway, saying what to fix', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from('not really a png'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const error = await createGatewayClient({ url, timeoutMs: 5_000 })
        .generate(request)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AigcError);
      expect(error).toMatchObject({ code: 'GATEWAY_FAILED', retryable: false });
      expect((error as Error).message).toMatch(/x-image-sha256.*gateway\.url/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
