import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AbiCoder, hexlify, keccak256, ParamType } from 'ethers';
import { startEmbeddedGateway } from '../embedded/gateway';
import { AigcError } from '../errors';
import { createGatewayClient, type GatewayClient } from '../gateway-client';
import { type CollectionTemplate, loadTemplate } from '../template';
import { framePrompt, type PickedTrait, pickTraits, traitOdds } from '../templates/traits';
import { collectionFilePath, readDevState } from './project';
import { formatTable } from './table';

export type PreviewCommandOptions = {
  count: number;
  out: string;
  template?: string;
  gateway?: string;
  seed?: string;
  json?: boolean;
};

export type PreviewImage = { file: string; seed: string; prompt: string; traits: PickedTrait[] };
export type TraitOddsRow = { trait_type: string; value: string; configured: number; observed: number; count: number };

/** Most images one preview renders. */
const MAX_COUNT = 10_000;
const BYTES32 = ParamType.from('bytes32');
const UINT256 = ParamType.from('uint256');

/**
 * The render seeds of a preview: the first is `base` itself (so a token's render seed reproduces its image and
 * traits), image i ≥ 1 renders keccak256(abi.encode(base, i)).
 */
export function previewSeeds(base: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    i === 0 ? base : keccak256(AbiCoder.defaultAbiCoder().encode([BYTES32, UINT256], [base, i])),
  );
}

/** `--seed`: 0x-hex up to 32 bytes, left-padded to a bytes32. */
export function parseSeed(value: string): string {
  if (!/^0x[0-9a-fA-F]{1,64}$/.test(value)) throw new AigcError('INVALID_REQUEST', '--seed must be 0x-hex of at most 32 bytes (64 digits)');
  return `0x${value.slice(2).toLowerCase().padStart(64, '0')}`;
}

/** The template: --template, else the folder's collection.json, else an error saying so. */
function resolveTemplate(given: string | undefined): { template: CollectionTemplate; source: string } {
  const source = given ?? collectionFilePath();
  if (!source)
    throw new AigcError(
      'TEMPLATE_INVALID',
      'no collection template: pass --template <name|path/to/collection.json> or run inside a collection folder (aigc init)',
    );
  return { template: loadTemplate(source), source };
}

/** Configured odds of each trait value against how often it came up in `drawn`. */
export function observedOdds(template: CollectionTemplate, drawn: PickedTrait[][]): TraitOddsRow[] {
  return traitOdds(template.traits).map((row) => {
    const count = drawn.filter((traits) => traits.some((t) => t.trait_type === row.trait_type && t.value === row.value)).length;
    return { trait_type: row.trait_type, value: row.value, configured: row.odds, observed: count / drawn.length, count };
  });
}

const percent = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)} %`;

/**
 * `aigc preview "<prompt>"`: renders the prompt with a collection's frame, negative prompt, size and traits for N
 * seeds, without any chain, and writes each image with its seed in the file name. Backend: --gateway,
 * AIGC_GATEWAY_URL or the folder's `aigc dev` gateway, else the `local` renderer behind an in-process gateway (the
 * same prompt policy the embedded stack applies). With traits and N ≥ 2 it reports observed against configured odds.
 */
export async function previewCommand(prompt: string, o: PreviewCommandOptions): Promise<void> {
  if (o.count > MAX_COUNT) throw new AigcError('INVALID_REQUEST', `--count is at most ${MAX_COUNT}`);
  const { template, source } = resolveTemplate(o.template);
  const promptBytes = Buffer.byteLength(prompt, 'utf8');
  if (promptBytes > template.mint.maxPromptBytes)
    throw new AigcError(
      'INVALID_REQUEST',
      `the prompt is ${promptBytes} bytes; this collection takes at most ${template.mint.maxPromptBytes} (mint.maxPromptBytes)`,
    );
  const log = (line: string) => {
    if (!o.json) process.stderr.write(`${line}\n`);
  };

  const base = o.seed ? parseSeed(o.seed) : hexlify(randomBytes(32));
  const seeds = previewSeeds(base, o.count);
  const drawn = seeds.map((seed) => pickTraits(template.traits, seed));

  const url = o.gateway ?? (process.env.AIGC_GATEWAY_URL || undefined) ?? readDevState()?.gatewayUrl;
  const embedded = url ? undefined : await startEmbeddedGateway();
  const backend = url ?? 'the local renderer (in-process)';
  const gateway: GatewayClient = createGatewayClient({
    url: url ?? embedded!.url,
    apiKey: url ? process.env.AIGC_GATEWAY_API_KEY || undefined : undefined,
    timeoutMs: 300_000,
  });
  fs.mkdirSync(o.out, { recursive: true });
  const width = String(o.count).length;
  const images: PreviewImage[] = [];
  try {
    log(`rendering ${o.count} image${o.count === 1 ? '' : 's'} of "${template.name}" with ${backend}`);
    for (const [i, seed] of seeds.entries()) {
      const generated = await gateway.generate({
        prompt: framePrompt(template.render, prompt, drawn[i]),
        negativePrompt: template.render.negativePrompt,
        seed,
        width: template.render.width,
        height: template.render.height,
        model: template.render.model,
      });
      const ext = generated.mime.split('/')[1] ?? 'png';
      const file = path.join(o.out, `${String(i + 1).padStart(width, '0')}-${seed}.${ext}`);
      fs.writeFileSync(file, generated.image);
      images.push({ file, seed, prompt: generated.prompt, traits: drawn[i] });
      if (o.count > 1) log(`  ${i + 1}/${o.count} ${file}`);
    }
  } finally {
    await embedded?.stop();
  }

  const odds = template.traits && o.count >= 2 ? observedOdds(template, drawn) : undefined;
  if (o.json) {
    console.log(JSON.stringify({ template: template.name, source, backend, baseSeed: base, images, ...(odds ? { odds } : {}) }));
    return;
  }
  console.log(`aigc preview: "${template.name}" (${source}), ${template.render.width}×${template.render.height}, seeds from ${base}`);
  for (const image of images) {
    const traits = image.traits.map((t) => `${t.trait_type}: ${t.value}`).join(', ');
    console.log(`${image.file}${traits ? `  ${traits}` : ''}`);
  }
  if (o.count === 1) console.log(`prompt: ${images[0].prompt}`);
  if (odds) {
    console.log(`\nTrait odds over ${o.count} draws (configured by weight, observed in this preview):`);
    console.log(
      formatTable(
        ['trait', 'value', 'configured', 'observed'],
        odds.map((r) => [r.trait_type, r.value, percent(r.configured), `${percent(r.observed)} (${r.count})`]),
      ),
    );
  }
}
