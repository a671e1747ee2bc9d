import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { abortError, gatewayError } from '../errors';
import { backendFetch, readJson, sleep, withBackoff, type BackoffOptions } from '../http';
import { defaultTxt2ImgGraph, fillGraph, type ComfyGraph } from './comfyui-graph';
import { type DiffusionBackend, type ModelInfo, type RenderInput, type RenderOutput, remoteCapabilities } from './types';

export type ComfyUIOptions = {
  /** Base URL of ComfyUI, e.g. `http://gpu:8188`. */
  url: string;
  /** An API-format graph with placeholders, or a path to one; the default txt2img graph when absent. */
  graph?: ComfyGraph;
  graphPath?: string;
  /** Checkpoint for the default graph. */
  checkpoint?: string;
  /** Listen on `/ws` for completion; `/history/{id}` polling runs anyway as the fallback. @defaultValue true */
  websocket?: boolean;
  pollIntervalMs?: number;
  retry?: Omit<BackoffOptions, 'backend' | 'signal'>;
};

type ImageRef = { filename: string; subfolder?: string; type?: string };
type HistoryEntry = {
  outputs?: Record<string, { images?: ImageRef[] }>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
};
type NodeErrors = Record<string, { class_type?: string; errors?: { message?: string; details?: string }[] }>;

/** "node 3 (KSampler): Value not in list: sampler_name" lines from ComfyUI's node_errors. */
function describeNodeErrors(nodeErrors: NodeErrors): string {
  return Object.entries(nodeErrors)
    .flatMap(([id, n]) =>
      (n.errors ?? []).map((e) => `node ${id} (${n.class_type ?? '?'}): ${e.message ?? 'error'}${e.details ? `: ${e.details}` : ''}`),
    )
    .join('; ');
}

/**
 * `comfyui`: queues an API-format graph with `POST /prompt`, waits for it (websocket `/ws` events, with
 * `/history/{id}` polling as fallback: `{}` means not done), then fetches the image with `GET /view`.
 * Validation failures (`node_errors`) surface as INVALID_REQUEST naming each node. Cancelling deletes the queued
 * prompt and interrupts the running one.
 *
 * @example
 * const backend = createComfyUIBackend({ url: 'http://127.0.0.1:8188', checkpoint: 'sd_xl_base_1.0.safetensors' });
 */
export function createComfyUIBackend(options: ComfyUIOptions): DiffusionBackend {
  const base = options.url.replace(/\/+$/, '');
  const checkpoint = options.checkpoint ?? 'v1-5-pruned-emaonly.safetensors';
  const graph: ComfyGraph =
    options.graph ??
    (options.graphPath ? (JSON.parse(readFileSync(options.graphPath, 'utf8')) as ComfyGraph) : defaultTxt2ImgGraph(checkpoint));
  const pollMs = options.pollIntervalMs ?? 500;
  const model: ModelInfo = {
    backend: 'comfyui',
    id: checkpoint,
    version: options.graph || options.graphPath ? 'custom-graph' : 'txt2img-default',
  };
  /**
   * Listens on `/ws` as `clientId` (one per render: ComfyUI keeps one socket per client id, a second would replace
   * the first). `done(promptId)` resolves on that prompt's completion event; it never rejects, polling covers failures.
   */
  function listen(clientId: string, signal: AbortSignal): { done: (promptId: string) => Promise<void>; close: () => void } {
    if (options.websocket === false) return { done: () => new Promise(() => undefined), close: () => undefined };
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
    let promptId: string | undefined;
    let finished: string | undefined;
    let wake: (() => void) | undefined;
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return; // preview frames
      try {
        const msg = JSON.parse(String(raw)) as { type?: string; data?: { prompt_id?: string; node?: string | null } };
        const id = msg.data?.prompt_id;
        if (!id) return;
        if (
          msg.type === 'execution_success' ||
          msg.type === 'execution_error' ||
          msg.type === 'execution_interrupted' ||
          (msg.type === 'executing' && msg.data?.node === null)
        ) {
          finished = id;
          if (id === promptId) wake?.();
        }
      } catch {
        // not JSON: ignore
      }
    });
    ws.on('error', () => undefined);
    const close = () => ws.terminate();
    signal.addEventListener('abort', close, { once: true });
    return {
      done: (id) => {
        promptId = id;
        return finished === id ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve));
      },
      close,
    };
  }

  async function history(promptId: string, signal: AbortSignal): Promise<HistoryEntry | undefined> {
    const res = await backendFetch({ backend: 'comfyui', url: `${base}/history/${promptId}`, signal });
    const body = await readJson<Record<string, HistoryEntry>>(res, 'comfyui');
    return body[promptId];
  }

  return {
    name: 'comfyui',
    deterministic: false,
    models: [model],
    // 64 bits: KSampler's `seed` (and KSamplerAdvanced's `noise_seed`) is an INT input of 0 … 0xffffffffffffffff. Above
    // 2^53 the seed is a bigint, written into the graph's JSON as an exact integer literal (see jsonText).
    capabilities: remoteCapabilities({
      samplers: ['euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpmpp_2m', 'dpmpp_sde', 'ddim', 'uni_pc', 'lms'],
      seedBits: 64,
    }),
    async render(input, signal = new AbortController().signal) {
      const prompt = fillGraph({ graph, input });
      const clientId = randomUUID();
      // Connect before queueing so the completion event can't be missed.
      const ws = listen(clientId, signal);
      try {
        return await run(prompt, clientId, ws.done, signal, input);
      } finally {
        ws.close();
      }
    },
    async ready(signal) {
      await backendFetch({ backend: 'comfyui', url: `${base}/system_stats`, signal });
    },
  };

  /** Queues the filled graph, waits for it, fetches its first saved image. */
  async function run(
    prompt: ComfyGraph,
    clientId: string,
    wsDone: (promptId: string) => Promise<void>,
    signal: AbortSignal,
    input: RenderInput,
  ): Promise<RenderOutput> {
    const res = await withBackoff({ backend: 'comfyui', signal, ...options.retry }, async () => {
      try {
        return await backendFetch({
          backend: 'comfyui',
          url: `${base}/prompt`,
          method: 'POST',
          body: { prompt, client_id: clientId },
          signal,
        });
      } catch (error) {
        const details = (error as { details?: string }).details;
        if ((error as { code?: string }).code === 'INVALID_REQUEST' && details) {
          try {
            const body = JSON.parse(details) as { error?: { message?: string }; node_errors?: NodeErrors };
            const nodes = describeNodeErrors(body.node_errors ?? {});
            throw gatewayError({
              code: 'INVALID_REQUEST',
              message: `comfyui rejected the graph: ${body.error?.message ?? 'invalid prompt'}${nodes ? ` (${nodes})` : ''}`,
              details,
            });
          } catch (parsed) {
            if (parsed instanceof SyntaxError) throw error;
            throw parsed;
          }
        }
        throw error;
      }
    });
    const queued = await readJson<{ prompt_id?: string; node_errors?: NodeErrors }>(res, 'comfyui');
    const nodes = describeNodeErrors(queued.node_errors ?? {});
    if (nodes) throw gatewayError({ code: 'INVALID_REQUEST', message: `comfyui rejected the graph: ${nodes}` });
    const promptId = queued.prompt_id;
    if (!promptId) throw gatewayError({ code: 'BACKEND_FAILED', message: 'comfyui returned no prompt_id' });

    const onAbort = () => {
      void fetch(`${base}/queue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ delete: [promptId] }),
      }).catch(() => undefined);
      void fetch(`${base}/interrupt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt_id: promptId }),
      }).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let fired = false;
    const done = wsDone(promptId).then(() => {
      fired = true;
    });
    try {
      let entry: HistoryEntry | undefined;
      for (;;) {
        entry = await history(promptId, signal);
        if (entry?.status?.completed || entry?.status?.status_str === 'error') break;
        // Wake on the websocket's event or the next poll, whichever comes first; after the event, history may lag
        // it by a moment: poll briefly instead of spinning.
        await (fired ? sleep(Math.min(pollMs, 50), signal) : Promise.race([done, sleep(pollMs, signal)])).catch(() => {
          throw abortError(signal, 'comfyui');
        });
      }
      if (entry.status?.status_str === 'error') {
        const err = entry.status.messages?.find(([type]) => type === 'execution_error')?.[1];
        throw gatewayError({
          code: 'BACKEND_FAILED',
          message: `comfyui execution failed: ${String(err?.exception_message ?? 'see ComfyUI logs')}`,
          details: JSON.stringify(err ?? {}).slice(0, 2_000),
        });
      }
      const ref =
        Object.values(entry.outputs ?? {})
          .flatMap((o) => o.images ?? [])
          .find((i) => i.type !== 'temp') ?? Object.values(entry.outputs ?? {}).flatMap((o) => o.images ?? [])[0];
      if (!ref)
        throw gatewayError({
          code: 'BACKEND_FAILED',
          message: 'comfyui finished without an image output (does the graph end in SaveImage?)',
        });
      const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder ?? '', type: ref.type ?? 'output' });
      const view = await backendFetch({ backend: 'comfyui', url: `${base}/view?${q}`, signal });
      const image = view.body;
      return { image, mime: 'image/png', width: input.width, height: input.height, seed: input.seed, model };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
