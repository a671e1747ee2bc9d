import { gatewayError } from '../errors';
import { backendFetch, readJson, withBackoff, type BackoffOptions } from '../http';
import { type DiffusionBackend, type ModelInfo, remoteCapabilities } from './types';

export type Automatic1111Options = {
  /** Base URL of the web UI started with `--api`, e.g. `http://gpu:7860`. */
  url: string;
  /** For `--api-auth user:password`. */
  username?: string;
  password?: string;
  /** Checkpoint title to force via `override_settings`; the loaded one when absent. */
  checkpoint?: string;
  retry?: Omit<BackoffOptions, 'backend' | 'signal'>;
};

/** The sampler names A1111 1.x ships; `GET /sdapi/v1/samplers` has the server's exact list. */
export const A1111_SAMPLERS = ['Euler a', 'Euler', 'DPM++ 2M', 'DPM++ SDE', 'DPM++ 2M SDE', 'DDIM', 'UniPC', 'LMS', 'Heun', 'DPM2'];

type Txt2ImgResponse = { images?: string[]; info?: string; parameters?: unknown };
type Txt2ImgInfo = { seed?: number; sd_model_hash?: string; sd_model_name?: string; version?: string };

/**
 * `automatic1111`: Stable Diffusion web UI's API, `POST /sdapi/v1/txt2img`, one image per call. The seed and
 * `sd_model_hash` come back in the `info` JSON string. Cancelling posts `/sdapi/v1/interrupt`.
 *
 * @example
 * const backend = createAutomatic1111Backend({ url: 'http://127.0.0.1:7860' });
 */
export function createAutomatic1111Backend({ url, username, password, checkpoint, retry }: Automatic1111Options): DiffusionBackend {
  const base = url.replace(/\/+$/, '');
  const headers: Record<string, string> = username
    ? { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` }
    : {};
  const model: ModelInfo = { backend: 'automatic1111', id: checkpoint ?? 'sd-webui-loaded-checkpoint', version: 'unknown' };
  return {
    name: 'automatic1111',
    deterministic: false,
    models: [model],
    // 32 bits: A1111 seeds live in 0 … 2^32−1 (its own random seeds come from `randrange(4294967294)`).
    capabilities: remoteCapabilities({ samplers: A1111_SAMPLERS, seedBits: 32 }),
    async render(input, signal) {
      const body = {
        prompt: input.prompt,
        negative_prompt: input.negativePrompt,
        seed: input.seed,
        steps: input.steps ?? 25,
        cfg_scale: input.guidance ?? 7,
        sampler_name: input.sampler ?? 'Euler a',
        width: input.width,
        height: input.height,
        batch_size: 1,
        n_iter: 1,
        send_images: true,
        save_images: false,
        ...(checkpoint ? { override_settings: { sd_model_checkpoint: checkpoint }, override_settings_restore_afterwards: false } : {}),
      };
      const onAbort = () => {
        // A1111 renders one job at a time; interrupt stops the current one (ours, as the gateway queues).
        void fetch(`${base}/sdapi/v1/interrupt`, { method: 'POST', headers }).catch(() => undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await withBackoff({ backend: 'automatic1111', signal, ...retry }, () =>
          backendFetch({ backend: 'automatic1111', url: `${base}/sdapi/v1/txt2img`, method: 'POST', headers, body, signal }),
        );
        const out = await readJson<Txt2ImgResponse>(res, 'automatic1111');
        const b64 = out.images?.[0];
        if (!b64) throw gatewayError({ code: 'BACKEND_FAILED', message: 'automatic1111 returned no image' });
        let info: Txt2ImgInfo = {};
        try {
          info = typeof out.info === 'string' ? (JSON.parse(out.info) as Txt2ImgInfo) : {};
        } catch {
          // info is advisory; the image is what matters
        }
        if (info.seed !== undefined && info.seed !== input.seed) {
          throw gatewayError({ code: 'BACKEND_FAILED', message: `automatic1111 used seed ${info.seed}, not ${input.seed}` });
        }
        return {
          image: Buffer.from(b64.replace(/^data:[^,]+,/, ''), 'base64'),
          mime: 'image/png',
          width: input.width,
          height: input.height,
          seed: info.seed ?? input.seed,
          model: {
            backend: 'automatic1111',
            id: info.sd_model_name ?? model.id,
            version: info.version ?? 'unknown',
            weightsHash: info.sd_model_hash,
          },
        };
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async ready(signal) {
      await backendFetch({ backend: 'automatic1111', url: `${base}/sdapi/v1/samplers`, headers, signal });
    },
  };
}
