import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { DiffusionBackend, ModelInfo, RenderInput, RenderOutput } from './types';

/**
 * `local-procedural`: a deterministic procedural renderer for development, CI and demos. It is NOT a neural
 * model: it paints soft colour fields, ripples and blobs whose palette and layout are derived from a SHA-256 of
 * (prompt, negative prompt, seed, size). The same input gives byte-identical PNGs across runs and processes,
 * which lets `aigc verify` re-render a token and compare bytes.
 *
 * Seeds: it takes all 256 bits (`seedBits: 256`). The seed enters the hash as its decimal string, so the whole value
 * counts (seeds that differ only in high bits give different images) and `0x10` and `16` are the same seed; a seed
 * below 2^53 hashes exactly as it did when seeds were 32-bit numbers, so those images are unchanged. The layout PRNG
 * keeps a 32-bit state taken from that hash, so two different seeds share an image with probability 2^-32.
 */
export const LOCAL_MODEL: ModelInfo = {
  backend: 'local',
  id: 'local-procedural',
  version: '3',
};

/** The colour fields are smooth: they are computed on a grid this many times coarser and scaled up by sharp. */
const GRID_STEP = 4;

/** mulberry32: a tiny, fast PRNG; enough for layout, and fully determined by its 32-bit state. */
function prng(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h * 12) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return [f(0) * 255, f(8) * 255, f(4) * 255];
}

/** Hue in [0,1) for each word of the prompt, so words steer the palette. */
function wordHues(prompt: string): number[] {
  const words = prompt
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 16);
  return words.map((w) => createHash('sha256').update(w).digest().readUInt32BE(0) / 4294967296);
}

/**
 * Paints raw RGB pixels for `input` on a `gridWidth`×`gridHeight` grid spanning the full image (layout in
 * full-size coordinates, sampled at grid cell centres). Pure: depends only on its arguments.
 */
export function paintPixels(input: RenderInput, gridWidth = input.width, gridHeight = input.height): Buffer {
  const { width, height } = input;
  const key = createHash('sha256')
    .update(`local-procedural/${LOCAL_MODEL.version}\0${input.prompt}\0${input.negativePrompt}\0${BigInt(input.seed)}\0${width}x${height}`)
    .digest();
  const rand = prng(key.readUInt32BE(0));
  const hues = wordHues(input.prompt);
  const baseHue = hues.length ? hues[0] : rand();
  const palette = Array.from({ length: 5 }, (_, i) => {
    const h = (hues[i + 1] ?? baseHue + 0.08 * (i + 1) + rand() * 0.1) % 1;
    return hslToRgb(h, 0.55 + rand() * 0.4, 0.35 + rand() * 0.35);
  });
  const sky = hslToRgb(baseHue, 0.5, 0.82);
  const ground = hslToRgb((baseHue + 0.5) % 1, 0.6, 0.18);
  const blobs = Array.from({ length: 6 + Math.floor(rand() * 5) }, () => ({
    x: rand() * width,
    y: rand() * height,
    r2: (0.05 + rand() * 0.25) ** 2 * width * height,
    c: palette[Math.floor(rand() * palette.length)],
  }));
  const freqX = (2 + rand() * 10) / width;
  const freqY = (2 + rand() * 10) / height;
  const phase = rand() * Math.PI * 2;

  // Same arithmetic, in the same order, as the straightforward per-pixel loop (so the bytes don't change); what
  // depends only on the row or the column is computed once.
  const n = blobs.length;
  const bx = Float64Array.from(blobs, (b) => b.x);
  const by = Float64Array.from(blobs, (b) => b.y);
  const br2 = Float64Array.from(blobs, (b) => b.r2);
  const cr = Float64Array.from(blobs, (b) => b.c[0]);
  const cg = Float64Array.from(blobs, (b) => b.c[1]);
  const cb = Float64Array.from(blobs, (b) => b.c[2]);
  const dy2 = new Float64Array(n);
  const sx = width / gridWidth;
  const sy = height / gridHeight;
  const xs = Float64Array.from({ length: gridWidth }, (_, gx) => (gx + 0.5) * sx - 0.5);
  const colPhase = Float64Array.from(xs, (x) => x * freqX * 6.283);
  const out = Buffer.allocUnsafe(gridWidth * gridHeight * 3);
  let o = 0;
  for (let gy = 0; gy < gridHeight; gy++) {
    const y = (gy + 0.5) * sy - 0.5;
    const t = Math.min(1, Math.max(0, y / (height - 1 || 1)));
    const bgR = sky[0] + (ground[0] - sky[0]) * t;
    const bgG = sky[1] + (ground[1] - sky[1]) * t;
    const bgB = sky[2] + (ground[2] - sky[2]) * t;
    const rowPhase = Math.sin(y * freqY * 6.283 + phase) * 2;
    for (let k = 0; k < n; k++) {
      const dy = y - by[k];
      dy2[k] = dy * dy;
    }
    for (let gx = 0; gx < gridWidth; gx++) {
      const x = xs[gx];
      let r = bgR;
      let g = bgG;
      let b = bgB;
      for (let k = 0; k < n; k++) {
        const dx = x - bx[k];
        const w = br2[k] / (br2[k] + dx * dx + dy2[k]);
        const a = w * w;
        r += (cr[k] - r) * a;
        g += (cg[k] - g) * a;
        b += (cb[k] - b) * a;
      }
      const ripple = 1 + 0.08 * Math.sin(colPhase[gx] + rowPhase);
      out[o++] = Math.min(255, Math.max(0, Math.round(r * ripple)));
      out[o++] = Math.min(255, Math.max(0, Math.round(g * ripple)));
      out[o++] = Math.min(255, Math.max(0, Math.round(b * ripple)));
    }
  }
  return out;
}

/**
 * Renders `input` to a PNG. Encoder settings are fixed so the bytes, not just the pixels, are reproducible.
 *
 * @example
 * const { image } = await renderLocal({ prompt: 'a red fox', negativePrompt: '', seed: 7, width: 512, height: 512 });
 */
export async function renderLocal(input: RenderInput): Promise<RenderOutput> {
  const gridWidth = Math.ceil(input.width / GRID_STEP);
  const gridHeight = Math.ceil(input.height / GRID_STEP);
  const pixels = paintPixels(input, gridWidth, gridHeight);
  const image = await sharp(pixels, { raw: { width: gridWidth, height: gridHeight, channels: 3 } })
    .resize(input.width, input.height, { kernel: 'cubic', fit: 'fill' })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
  return { image, mime: 'image/png', width: input.width, height: input.height, model: LOCAL_MODEL };
}

/** The `local` backend: deterministic, no GPU, no network. */
export function createLocalBackend(): DiffusionBackend {
  return {
    name: 'local',
    deterministic: true,
    models: [LOCAL_MODEL],
    capabilities: {
      sizes: { min: 64, max: 2048, multipleOf: 8 },
      samplers: [],
      deterministic: true,
      maxPromptTokens: 1_000,
      seedBits: 256,
    },
    render: (input) => renderLocal(input),
    ready: async () => {},
  };
}
