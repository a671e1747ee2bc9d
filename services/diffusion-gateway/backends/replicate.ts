import Replicate, { type Prediction } from 'replicate';
import { AigcError } from '../../../protocol/errors';
import { abortError, gatewayError } from '../errors';
import { backendFetch, sleep, statusError, withBackoff, type BackoffOptions } from '../http';
import { type DiffusionBackend, type ModelInfo, remoteCapabilities } from './types';

export type ReplicateOptions = {
  token: string;
  /** API base; point it at a compatible server in tests. @defaultValue 'https://api.replicate.com/v1' */
  baseUrl?: string;
  /** `owner/name` (official model, latest version) or `owner/name:version`. */
  model: string;
  /** Seconds the create call blocks with `Prefer: wait` before polling takes over (1–60). @defaultValue 60 */
  waitSeconds?: number;
  pollIntervalMs?: number;
  retry?: Omit<BackoffOptions, 'backend' | 'signal'>;
};

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

/** The `replicate` client throws ApiError (with `.response`) or fetch errors; map both to typed codes. */
function mapError(error: unknown, signal?: AbortSignal): AigcError {
  if (signal?.aborted) return abortError(signal, 'replicate');
  if (error instanceof AigcError) return error;
  const response = (error as { response?: Response }).response;
  if (response) {
    return statusError({
      backend: 'replicate',
      status: response.status,
      text: (error as Error).message,
      retryAfter: response.headers.get('retry-after'),
    });
  }
  return gatewayError({ code: 'BACKEND_UNAVAILABLE', message: 'replicate unreachable', cause: error, details: String(error) });
}

/**
 * `replicate`: runs a model on Replicate through the official `replicate` client. Creates the prediction with
 * `Prefer: wait`, polls when it is not done yet, and copies the output file at once (Replicate deletes outputs
 * after an hour). The client's own retries don't sleep, so 429/5xx get exponential backoff here.
 *
 * @example
 * const backend = createReplicateBackend({ token: process.env.REPLICATE_API_TOKEN!, model: 'black-forest-labs/flux-schnell' });
 */
export function createReplicateBackend({
  token,
  baseUrl = 'https://api.replicate.com/v1',
  model,
  waitSeconds = 60,
  pollIntervalMs = 1_000,
  retry,
}: ReplicateOptions): DiffusionBackend {
  const client = new Replicate({ auth: token, baseUrl, useFileOutput: false });
  const [ref, version] = model.split(':');
  const info: ModelInfo = { backend: 'replicate', id: ref, version: version ?? 'latest' };
  const call = <T>(signal: AbortSignal | undefined, fn: () => Promise<T>) =>
    withBackoff({ backend: 'replicate', signal, ...retry }, async () => {
      try {
        return await fn();
      } catch (error) {
        throw mapError(error, signal);
      }
    });

  return {
    name: 'replicate',
    deterministic: false,
    models: [info],
    // 32 bits: Replicate's diffusion models are Cog models; most take a 32-bit int seed (see cog.ts).
    capabilities: remoteCapabilities({ seedBits: 32 }),
    async render(input, signal) {
      const modelInput = {
        prompt: input.prompt,
        negative_prompt: input.negativePrompt || undefined,
        seed: input.seed,
        width: input.width,
        height: input.height,
        ...(input.steps ? { num_inference_steps: input.steps } : {}),
        ...(input.guidance !== undefined ? { guidance_scale: input.guidance } : {}),
        ...(input.sampler ? { scheduler: input.sampler } : {}),
        output_format: 'png',
      };
      // The create call is not given the signal: aborting it mid-`Prefer: wait` would orphan a prediction whose id we
      // never learnt. On abort we stop waiting for it and cancel the prediction once its id arrives.
      const creating = call(undefined, () =>
        client.predictions.create({ ...(version ? { version } : { model: ref }), input: modelInput, wait: waitSeconds } as Parameters<
          typeof client.predictions.create
        >[0]),
      );
      let prediction: Prediction;
      if (signal) {
        const aborted = new Promise<never>((_, reject) => {
          const onAbortCreate = () => {
            void creating.then((p) => client.predictions.cancel(p.id)).catch(() => undefined);
            reject(abortError(signal, 'replicate'));
          };
          if (signal.aborted) onAbortCreate();
          else signal.addEventListener('abort', onAbortCreate, { once: true });
          void creating.finally(() => signal.removeEventListener('abort', onAbortCreate)).catch(() => undefined);
        });
        prediction = await Promise.race([creating, aborted]);
      } else {
        prediction = await creating;
      }
      const onAbort = () => void client.predictions.cancel(prediction.id).catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        while (!TERMINAL.has(prediction.status)) {
          await sleep(pollIntervalMs, signal).catch(() => {
            throw abortError(signal!, 'replicate');
          });
          prediction = await call(signal, () => client.predictions.get(prediction.id, { signal }));
        }
        if (prediction.status !== 'succeeded') {
          const nsfw = /nsfw|safety|sensitive/i.test(String(prediction.error ?? ''));
          throw gatewayError({
            code: nsfw ? 'CONTENT_REJECTED' : 'BACKEND_FAILED',
            message: `replicate prediction ${prediction.id} ${prediction.status}: ${String(prediction.error ?? 'no error message')}`,
            details: prediction.logs?.slice(-2_000),
          });
        }
        const output = Array.isArray(prediction.output) ? prediction.output[0] : prediction.output;
        if (typeof output !== 'string')
          throw gatewayError({ code: 'BACKEND_FAILED', message: `replicate prediction ${prediction.id} has no file output` });
        // Copy now: the file URL expires an hour after the prediction.
        const res = await withBackoff({ backend: 'replicate', signal, ...retry }, () =>
          backendFetch({ backend: 'replicate', url: output, signal }),
        );
        const image = res.body;
        return {
          image,
          mime: 'image/png',
          width: input.width,
          height: input.height,
          seed: input.seed,
          model: { ...info, version: prediction.version ?? info.version },
        };
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async ready(signal) {
      await call(signal, () => client.accounts.current({ signal }));
    },
  };
}
