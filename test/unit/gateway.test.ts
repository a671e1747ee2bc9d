import type { Server } from 'node:http';
import { createHash } from 'node:crypto';
import { createGatewayApp } from '../../services/diffusion-gateway/app';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import { normalizePrompt } from '../../services/diffusion-gateway/prompt';

let server: Server;
let url: string;

beforeAll(async () => {
  const app = createGatewayApp({ backend: createLocalBackend(), apiKeys: ['k-123'] });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k-123', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('diffusion gateway', () => {
  it('returns the image as JSON with its sha256, model and seed', async () => {
    const res = await post({ prompt: 'a fox', seed: 9, width: 128, height: 128 }, { accept: 'application/json' });
    expect(res.status).toBe(200);
    const body = await json(res);
    const bytes = Buffer.from(body.image, 'base64');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(body.sha256);
    expect(body).toMatchObject({ mime: 'image/png', seed: '9', seedBits: 256, width: 128, height: 128, model: { id: 'local-procedural' } });
  });

  it('returns raw bytes with metadata headers by default', async () => {
    const res = await post({ prompt: 'a fox', seed: 9, width: 128, height: 128 });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-image-sha256')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('names every bad field in a 400', async () => {
    const res = await post({ prompt: '', seed: -1, width: 100, height: 99999, extra: true });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(Object.keys(error.fields).sort()).toEqual(['extra', 'height', 'prompt', 'seed', 'width']);
    expect(error.fields.extra).toBe('unknown field');
    expect(error.fields.width).toBe('must be a multiple of 8');
  });

  it('refuses malformed JSON and prompts that normalise to nothing', async () => {
    expect((await post('{"prompt": ')).status).toBe(400);
    const res = await post({ prompt: '\u0000\u202E \u200B', seed: 1 });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/empty after normalisation/);
  });

  it('requires a known bearer key', async () => {
    expect((await post({ prompt: 'a', seed: 1 }, { authorization: '' })).status).toBe(401);
    expect((await post({ prompt: 'a', seed: 1 }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('normalises prompts: NFC, control and bidi characters, whitespace', () => {
    expect(normalizePrompt('  Cafe\u0301\u0000 \u202Enight\u202C\n\n market\t')).toBe('Café night market');
  });
});
