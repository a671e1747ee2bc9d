import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { loadGatewayConfig } from '../../services/diffusion-gateway/config';
import { type ImageClassifier, parseThresholds, sharedClassifier, strictestPolicy } from '../../services/diffusion-gateway/moderation';
import { generate, type RunningGateway, startGateway } from '../helpers/gateway';
import { fixturePhoto, photoBackend } from '../helpers/photo-backend';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

jest.setTimeout(180_000);

const cat = fixturePhoto('chelsea.png');
const rocket = fixturePhoto('rocket.jpg');

// The figures are nsfwjs's own `classify` of these photos (0.9263 neutral, 0.7912 drawing): the gateway runs the same
// network with its batch norms folded into the convolutions, which must not move a score by more than rounding.
describe('the bundled classifier (nsfwjs MobileNetV2 on TensorFlow.js WebAssembly)', () => {
  let classifier: ImageClassifier;
  /** Message ports holding the event loop open (a worker whose port is ref'd keeps the process alive). */
  const heldPorts = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
  let portsBefore: number;
  let portsLoaded: number;
  beforeAll(async () => {
    portsBefore = heldPorts();
    classifier = await sharedClassifier();
    portsLoaded = heldPorts();
  });

  it('is loaded once per process', async () => {
    expect(await sharedClassifier()).toBe(classifier);
    expect(classifier.name).toMatch(/^nsfwjs\/MobileNetV2@tfjs-4\.\d+\.\d+-wasm$/);
  });

  it('does not keep the process alive once loaded, nor after a classification', async () => {
    expect(portsLoaded).toBe(portsBefore);
    await classifier.classify(cat);
    expect(heldPorts()).toBe(portsBefore);
  });

  it('scores the cat photo as neutral, the same on every run', async () => {
    const first = await classifier.classify(cat);
    const second = await classifier.classify(cat);
    for (const c of Object.keys(first) as (keyof typeof first)[]) expect(Math.abs(first[c] - second[c])).toBeLessThan(1e-3);
    expect(first.neutral).toBeGreaterThan(0.8);
    expect(first.neutral).toBeCloseTo(0.9263, 3);
    expect(Math.max(first.porn, first.hentai, first.sexy)).toBeLessThan(0.2);
    const sum = Object.values(first).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 2);
  });

  it('scores the rocket launch as safe (drawing/neutral), nothing explicit', async () => {
    const scores = await classifier.classify(rocket);
    expect(scores.drawing + scores.neutral).toBeGreaterThan(0.95);
    expect(scores.drawing).toBeCloseTo(0.7912, 3);
    expect(Math.max(scores.porn, scores.hentai, scores.sexy)).toBeLessThan(0.05);
  });

  it('when its worker dies, fails calls at once (no render waits forever) and the next call loads a new one', async () => {
    await (classifier as ImageClassifier & { close(): Promise<void> }).close();
    await expect(classifier.classify(cat)).rejects.toThrow(/image classifier worker exited/);
    const again = await sharedClassifier();
    expect(again).not.toBe(classifier);
    expect((await again.classify(cat)).neutral).toBeCloseTo(0.9263, 3);
  });
});

describe('policies', () => {
  it('takes the stricter of the gateway and the request: harsher action, lower threshold per class', () => {
    expect(strictestPolicy({ policy: 'off', thresholds: { porn: 0.7 } }, { policy: 'blur', thresholds: { porn: 0.9, sexy: 0.5 } })).toEqual(
      {
        policy: 'blur',
        thresholds: { porn: 0.7, sexy: 0.5 },
      },
    );
    expect(strictestPolicy({ policy: 'reject', thresholds: { porn: 0.6 } }, { policy: 'off' })).toEqual({
      policy: 'reject',
      thresholds: { porn: 0.6 },
    });
  });

  it('reads GATEWAY_MODERATION and GATEWAY_MODERATION_THRESHOLDS, naming a bad value', () => {
    const config = loadGatewayConfig({ env: { GATEWAY_MODERATION: 'reject', GATEWAY_MODERATION_THRESHOLDS: 'porn:0.6, Sexy:0.8' } });
    expect(config.moderation).toEqual({ policy: 'reject', thresholds: { porn: 0.6, sexy: 0.8 } });
    expect(loadGatewayConfig({ env: {} }).moderation).toEqual({ policy: 'off', thresholds: { porn: 0.7, hentai: 0.7, sexy: 0.9 } });
    expect(parseThresholds('porn=0.6')).toBe('porn=0.6');
    expect(() => loadGatewayConfig({ env: { GATEWAY_MODERATION_THRESHOLDS: 'gore:0.5' } })).toThrow(/moderation\.thresholds/);
    expect(() => loadGatewayConfig({ env: { GATEWAY_MODERATION: 'maybe' } })).toThrow(/moderation\.policy/);
  });
});

describe('moderation in the gateway', () => {
  let gw: RunningGateway;
  let loads = 0;
  beforeAll(async () => {
    gw = await startGateway({
      backend: photoBackend(rocket, 'image/png'),
      loadClassifier: () => {
        loads++;
        return sharedClassifier();
      },
    });
  });
  afterAll(() => gw?.close());
  const body = { prompt: 'a launch', seed: 1, width: 256, height: 256 };

  it('off (the default): the classifier is never loaded and nothing is reported', async () => {
    const res = await generate(gw.url, body);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-moderation')).toBeNull();
    expect(JSON.parse(res.headers.get('x-timings')!).moderationMs).toBeUndefined();
    const answer0 = await generate(gw.url, { ...body, moderation: { policy: 'off' } }, { accept: 'application/json' });
    expect((await json(answer0)).moderation).toBeUndefined();
    expect(loads).toBe(0);
  });

  it('reject: an image over a threshold answers 422 CONTENT_REJECTED with the class and score', async () => {
    const res = await generate(gw.url, { ...body, moderation: { policy: 'reject', thresholds: { drawing: 0.5 } } });
    expect(res.status).toBe(422);
    const { error } = await json(res);
    expect(error).toMatchObject({ code: 'CONTENT_REJECTED', retryable: false });
    expect(error.message).toMatch(/^image refused by moderation: drawing 0\.\d\d ≥ 0\.5$/);
    expect(loads).toBe(1);
  });

  it('reject under every threshold: the image passes, with its scores', async () => {
    const res = await generate(gw.url, { ...body, moderation: { policy: 'reject' } }, { accept: 'application/json' });
    expect(res.status).toBe(200);
    const answer = await json(res);
    expect(answer.moderation).toMatchObject({ policy: 'reject', action: 'passed', thresholds: { porn: 0.7, hentai: 0.7, sexy: 0.9 } });
    expect(answer.moderation.scores.drawing).toBeGreaterThan(0.5);
    expect(answer.timings.moderationMs).toBeGreaterThan(0);
  });

  it('blur: the image is blurred and the answer says so', async () => {
    const plain = Buffer.from(await (await generate(gw.url, body)).arrayBuffer());
    const res = await generate(gw.url, { ...body, moderation: { policy: 'blur', thresholds: { drawing: 0.5 } } });
    expect(res.status).toBe(200);
    const moderation = JSON.parse(res.headers.get('x-moderation')!);
    expect(moderation).toMatchObject({ policy: 'blur', action: 'blurred', crossed: ['drawing'] });
    const blurred = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('x-image-sha256')).toBe(createHash('sha256').update(blurred).digest('hex'));
    expect(blurred.equals(plain)).toBe(false);
    // Blurred: far less detail than the original (sum of absolute differences between neighbouring pixels).
    const detail = async (png: Buffer) => {
      const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
      let sum = 0;
      for (let i = 1; i < data.length; i++) sum += Math.abs(data[i] - data[i - 1]);
      return sum;
    };
    expect(await detail(blurred)).toBeLessThan((await detail(plain)) / 4);
  });

  it('a request cannot loosen the gateway policy', async () => {
    const strict = await startGateway({
      backend: photoBackend(rocket, 'image/png'),
      moderation: { policy: 'reject', thresholds: { drawing: 0.5 } },
    });
    try {
      const res = await generate(strict.url, { ...body, moderation: { policy: 'off', thresholds: { drawing: 1 } } });
      expect(res.status).toBe(422);
      expect((await json(res)).error.code).toBe('CONTENT_REJECTED');
    } finally {
      await strict.close();
    }
  });
});
