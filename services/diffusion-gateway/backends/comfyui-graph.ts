import { gatewayError } from '../errors';
import type { RenderInput } from './types';

/** An API-format ComfyUI graph: node id → { class_type, inputs }. */
export type ComfyGraph = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: unknown }>;

/**
 * The default txt2img graph (API format, as "Save (API Format)" exports it) with placeholders.
 * A value that is exactly `"{{seed}}"` becomes a number (a bigint above 2^53, sent as an exact JSON integer);
 * placeholders inside longer strings are substituted as text (decimal for the seed).
 */
export function defaultTxt2ImgGraph(checkpoint: string): ComfyGraph {
  return {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: '{{seed}}',
        steps: '{{steps}}',
        cfg: '{{guidance}}',
        sampler_name: '{{sampler}}',
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: checkpoint } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: '{{width}}', height: '{{height}}', batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: '{{prompt}}', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: '{{negative_prompt}}', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'aigc', images: ['8', 0] } },
  };
}

/**
 * Fills a graph's placeholders from `input`. Throws INVALID_REQUEST when the graph lacks `{{prompt}}` or `{{seed}}`
 * (a graph that ignores them would break provenance).
 *
 * @example
 * const graph = fillGraph({ graph: defaultTxt2ImgGraph('sd15.safetensors'), input });
 */
export function fillGraph({ graph, input }: { graph: ComfyGraph; input: RenderInput }): ComfyGraph {
  const values: Record<string, string | number | bigint> = {
    prompt: input.prompt,
    negative_prompt: input.negativePrompt,
    seed: input.seed,
    width: input.width,
    height: input.height,
    steps: input.steps ?? 25,
    guidance: input.guidance ?? 7,
    sampler: input.sampler ?? 'euler',
  };
  const text = JSON.stringify(graph);
  for (const required of ['{{prompt}}', '{{seed}}']) {
    if (!text.includes(required))
      throw gatewayError({ code: 'INVALID_REQUEST', message: `comfyui graph has no ${required} placeholder`, retryable: false });
  }
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = /^\{\{(\w+)\}\}$/.exec(value);
      if (whole && whole[1] in values) return values[whole[1]];
      return value.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(graph) as ComfyGraph;
}
