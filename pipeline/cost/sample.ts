import { createHash } from 'node:crypto';
import { keccak256, toUtf8Bytes, ZeroAddress } from 'ethers';
import { LOCAL_MODEL, renderLocal } from '../../services/diffusion-gateway/backends/local';
import { postprocess } from '../../services/diffusion-gateway/postprocess';
import type { OutputFormat } from '../../protocol/gateway';
import { modelHash } from '../provenance/model-hash';
import { buildManifest, serializeManifest } from '../storage/manifest';
import type { CollectionTemplate } from '../template';
import { framePrompt, pickTraits, TRAIT_DRAW_METHOD } from '../templates/traits';

/** A typical collector prompt for the sample render. */
const SAMPLE_PROMPT = 'a lighthouse on a basalt cliff at dawn';
const SAMPLE_SEED = 0x5eed;

export type SampleSizes = {
  /** Encoded image bytes: the procedural sample's, or the caller's figure. */
  imageBytes: number;
  /** True when `imageBytes` was measured on the local procedural renderer (an estimate for real models). */
  imageMeasured: boolean;
  /** Bytes of a manifest with a prompt as long as the template allows (an upper bound). */
  manifestBytes: number;
  format: OutputFormat;
  width: number;
  height: number;
};

export type MeasureSampleParameters = {
  template: CollectionTemplate;
  /** Output format of the gateway. @defaultValue 'png' (the gateway's default) */
  format?: OutputFormat;
  /** Bytes per image to use instead of rendering a sample (e.g. measured on the real model). */
  imageBytes?: number;
};

/**
 * Sizes of what one mint stores on Arweave: a sample image rendered by the `local` backend at the template's size
 * and post-processed like the gateway does (XMP provenance included), and a manifest built by `buildManifest` with
 * a prompt of `maxPromptBytes` and TEE attestation fields (the largest variant).
 *
 * @example
 * const { imageBytes, manifestBytes } = await measureSample({ template: loadTemplate('open-prompt') });
 */
export async function measureSample({ template, format = 'png', imageBytes }: MeasureSampleParameters): Promise<SampleSizes> {
  const { width, height } = template.render;
  let bytes = imageBytes;
  if (bytes === undefined) {
    const sampleSeed = `0x${SAMPLE_SEED.toString(16).padStart(64, '0')}`;
    const prompt = framePrompt(template.render, SAMPLE_PROMPT, pickTraits(template.traits, sampleSeed));
    const rendered = await renderLocal({ prompt, negativePrompt: template.render.negativePrompt, seed: SAMPLE_SEED, width, height });
    const provenance = {
      requestId: '4294967295',
      seed: SAMPLE_SEED,
      model: LOCAL_MODEL.id,
      promptSha256: createHash('sha256').update(prompt).digest('hex'),
    };
    bytes = (await postprocess({ image: rendered.image, width, height, format, provenance })).bytes;
  }

  const prompt = 'a'.repeat(template.mint.maxPromptBytes);
  // The longest value of each trait: an upper bound of what the manifest records.
  const longest = (template.traits ?? []).map((t) => ({
    trait_type: t.name,
    value: t.values.reduce((a, b) => (b.value.length > a.value.length ? b : a)).value,
  }));
  const manifest = buildManifest({
    collectionName: template.name,
    description: template.description,
    imageId: 'x'.repeat(43),
    provenance: {
      collection: ZeroAddress,
      chainId: 4294967295,
      requestId: '4294967295',
      tokenId: '4294967295',
      prompt,
      promptHash: keccak256(toUtf8Bytes(prompt)),
      renderedPrompt: framePrompt(template.render, prompt, longest),
      negativePrompt: template.render.negativePrompt,
      seed: `0x${'f'.repeat(64)}`,
      requestBlockHash: `0x${'f'.repeat(64)}`,
      renderSeed: `0x${'f'.repeat(64)}`,
      backendSeed: String(2n ** 256n - 1n),
      model: LOCAL_MODEL,
      modelHash: modelHash(LOCAL_MODEL),
      params: { width, height },
      image: { sha256: 'f'.repeat(64), mime: `image/${format}`, width, height, bytes },
      generatedAt: new Date(0).toISOString(),
      signer: ZeroAddress,
      attestation: { type: 'tee', document: 'x'.repeat(43), provider: 'sev_guest' },
      ...(template.traits ? { traits: { method: TRAIT_DRAW_METHOD, table: template.traits, values: longest } } : {}),
    },
  });
  return {
    imageBytes: bytes,
    imageMeasured: imageBytes === undefined,
    manifestBytes: serializeManifest(manifest).length,
    format,
    width,
    height,
  };
}
