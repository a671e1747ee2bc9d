import { gatewayError } from '../errors';
import { backendFetch, readJson, withBackoff, type BackoffOptions } from '../http';
import { type DiffusionBackend, type ModelInfo, remoteCapabilities } from './types';

export type CogOptions = {
  /** Base URL of the Cog container, e.g. `http://gpu:5000`. */
  url: string;
  /** Label of the served model (Cog's API does not report it). */
  model?: string;
  version?: string;
  retry?: Omit<BackoffOptions, 'backend' | 'signal'>;
};

type CogPrediction = { id?: string; status?: string; output?: unknown; error?: string | null; logs?: string };

/** Decodes a `data:` URL output (Cog's default without an upload URL). */
function decodeDataUrl(value: unknown): { image: Buffer; mime: string } {
  const first = Array.isArray(value) ? value[0] : value;
  const match = typeof first === 'string' ? /^data:([^;,]+)(;base64)?,(.*)$/s.exec(first) : null;
  if (!match)
    throw gatewayError({ code: 'BACKEND_FAILED', message: 'cog output is not a data URL (start the container without --upload-url)' });
  return { mime: match[1], image: match[2] ? Buffer.from(match[3], 'base64') : Buffer.from(decodeURIComponent(match[3])) };
}

/**
 * `cog`: a self-hosted Cog container (the format Replicate models ship in). `PUT /predictions/{id}` with an id
 * derived from the request, so a retry after a lost answer joins the same prediction instead of rendering twice.
 * 409 (already running another prediction) is retried with backoff; cancelling posts `/predictions/{id}/cancel`.
 *
 * @example
 * const backend = createCogBackend({ url: 'http://127.0.0.1:5000', model: 'sdxl' });
 */
export function createCogBackend({ url, model = 'cog-model', version = 'unknown', retry }: CogOptions): DiffusionBackend {
  const base = url.replace(/\/+$/, '');
  const info: ModelInfo = { backend: 'cog', id: model, version };
  return {
    name: 'cog',
    deterministic: false,
    models: [info],
    // 32 bits: Cog diffusion models declare `seed: int` and most seed generators that take 32 bits (numpy refuses ≥ 2^32).
    capabilities: remoteCapabilities({ seedBits: 32 }),
    async render(input, signal) {
      const id = `aigc-${input.requestId ?? `${input.seed}-${Date.now()}`}`.slice(0, 64);
      const body = {
        id,
        input: {
          prompt: input.prompt,
          negative_prompt: input.negativePrompt,
          seed: input.seed,
          width: input.width,
          height: input.height,
          ...(input.steps ? { num_inference_steps: input.steps } : {}),
          ...(input.guidance !== undefined ? { guidance_scale: input.guidance } : {}),
          ...(input.sampler ? { scheduler: input.sampler } : {}),
        },
      };
      const onAbort = () => void fetch(`${base}/predictions/${id}/cancel`, { method: 'POST' }).catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await withBackoff({ backend: 'cog', signal, ...retry }, () =>
          backendFetch({ backend: 'cog', url: `${base}/predictions/${id}`, method: 'PUT', body, signal }),
        );
        const prediction = await readJson<CogPrediction>(res, 'cog');
        if (prediction.status === 'canceled') throw gatewayError({ code: 'BACKEND_FAILED', message: 'cog prediction was cancelled' });
        if (prediction.status !== 'succeeded') {
          throw gatewayError({
            code: 'BACKEND_FAILED',
            message: `cog prediction ${prediction.status ?? 'ended'}: ${prediction.error ?? 'no error message'}`,
            details: prediction.logs?.slice(-2_000),
          });
        }
        const { image, mime } = decodeDataUrl(prediction.output);
        return { image, mime: mime as 'image/png', width: input.width, height: input.height, seed: input.seed, model: info };
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async ready(signal) {
      const res = await backendFetch({ backend: 'cog', url: `${base}/health-check`, signal });
      const { status } = await readJson<{ status?: string }>(res, 'cog');
      // BUSY still means set up and reachable; the queue absorbs it.
      if (status !== 'READY' && status !== 'BUSY') {
        throw gatewayError({
          code: 'BACKEND_UNAVAILABLE',
          message: `cog container status is ${status ?? 'unknown'}`,
          retryable: status === 'STARTING',
        });
      }
    },
  };
}
