import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseJsonExact, photo, pyInt, readBody, renderTime, sendJson, startWireServer, type WireServer } from './common';

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
type Job = { cancelled: boolean; history?: unknown };
type NodeError = { type: string; message: string; details: string; extra_info: Record<string, unknown> };

/** KSampler's `seed`: `("INT", {"default": 0, "min": 0, "max": 0xffffffffffffffff})`. */
const SEED_MAX = 0xffffffffffffffffn;

/**
 * ComfyUI's `validate_inputs` for an INT widget: `int(val)` (so numbers and digit strings pass; a JSON integer of any
 * size is read exactly), then the min/max of the input's spec.
 */
function validateInt(name: string, value: unknown, min: bigint, max: bigint): NodeError | undefined {
  const val = pyInt(value);
  if (val === undefined) {
    return {
      type: 'invalid_input_type',
      message: 'Failed to convert an input value to a INT value',
      details: `${name}, ${String(value)}, invalid literal for int() with base 10: '${String(value)}'`,
      extra_info: { input_name: name },
    };
  }
  if (val < min)
    return {
      type: 'value_smaller_than_min',
      message: `Value ${val} smaller than min of ${min}`,
      details: name,
      extra_info: { input_name: name },
    };
  if (val > max)
    return {
      type: 'value_bigger_than_max',
      message: `Value ${val} bigger than max of ${max}`,
      details: name,
      extra_info: { input_name: name },
    };
  return undefined;
}

/**
 * ComfyUI's server API: `POST /prompt {prompt, client_id}` → `{prompt_id, number, node_errors}` or 400 with
 * `{error, node_errors}`; `GET /history/{id}` → `{}` until done, then `{[id]: {outputs, status}}`; `GET /view`;
 * `/ws?clientId=` events (`executing` with `node: null` when done); `POST /queue {delete}`, `POST /interrupt`,
 * `GET /system_stats`. `websocket: false` starts it without the socket, to exercise the polling fallback.
 * Like ComfyUI (Python's json), it reads integers of any size exactly; KSampler's seed is checked against 0 … 2^64−1.
 */
export async function startComfyUIServer({ websocket = true }: { websocket?: boolean } = {}): Promise<WireServer> {
  const jobs = new Map<string, Job>();
  const files = new Map<string, Buffer>();
  const sockets = new Map<string, WebSocket>();
  let number = 0;
  const emit = (clientId: string, msg: unknown) => sockets.get(clientId)?.send(JSON.stringify(msg));

  return startWireServer(
    async (req, res, state) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/system_stats') {
        return sendJson(res, 200, { system: { os: 'posix', comfyui_version: '0.3.40', python_version: '3.11' }, devices: [] });
      }
      if (req.method === 'POST' && url.pathname === '/prompt') {
        const body = parseJsonExact(await readBody(req)) as { prompt?: Graph; client_id?: string };
        const graph = body.prompt ?? {};
        const node = (type: string) => Object.entries(graph).find(([, n]) => n.class_type === type);
        const sampler = node('KSampler');
        const latent = node('EmptyLatentImage');
        const save = node('SaveImage');
        if (!sampler || !latent || !save) {
          return sendJson(res, 400, {
            error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} },
            node_errors: {},
          });
        }
        const seedError = validateInt('seed', sampler[1].inputs.seed, 0n, SEED_MAX);
        const latentErrors = (['width', 'height'] as const).flatMap((k) => validateInt(k, latent[1].inputs[k], 16n, 16384n) ?? []);
        if (seedError || latentErrors.length) {
          const errors = [
            ...(seedError ? [{ message: seedError.message, details: seedError.details }] : []),
            ...latentErrors.map((e) => ({ message: e.message, details: e.details })),
          ];
          return sendJson(res, 400, {
            error: {
              type: 'prompt_outputs_failed_validation',
              message: 'Prompt outputs failed validation',
              details: errors.map((e) => `${e.message}: ${e.details}`).join('\n'),
              extra_info: {},
            },
            node_errors: {
              ...(seedError ? { [sampler[0]]: { errors: [seedError], dependent_outputs: [save[0]], class_type: 'KSampler' } } : {}),
              ...(latentErrors.length
                ? { [latent[0]]: { errors: latentErrors, dependent_outputs: [save[0]], class_type: 'EmptyLatentImage' } }
                : {}),
            },
          });
        }
        if (state.faults.busy > 0) {
          state.faults.busy--;
          return sendJson(res, 503, { error: 'server busy' });
        }
        const texts = Object.values(graph)
          .filter((n) => n.class_type === 'CLIPTextEncode')
          .map((n) => String(n.inputs.text));
        state.last = {
          prompt: texts[0] ?? '',
          negativePrompt: texts[1] ?? '',
          seed: pyInt(sampler[1].inputs.seed)!,
          width: Number(latent[1].inputs.width),
          height: Number(latent[1].inputs.height),
        };
        const id = randomUUID();
        const job: Job = { cancelled: false };
        jobs.set(id, job);
        const clientId = body.client_id ?? '';
        sendJson(res, 200, { prompt_id: id, number: number++, node_errors: {} });

        const width = Number(latent[1].inputs.width);
        const height = Number(latent[1].inputs.height);
        const faults = { ...state.faults };
        void (async () => {
          emit(clientId, { type: 'execution_start', data: { prompt_id: id, timestamp: Date.now() } });
          const cancelled = await renderTime(faults.delayMs, faults.hang, () => job.cancelled || state.closed);
          if (cancelled) {
            emit(clientId, { type: 'execution_interrupted', data: { prompt_id: id, node_id: sampler[0] } });
            job.history = {
              prompt: [number, id, graph, {}, [save[0]]],
              outputs: {},
              status: { status_str: 'error', completed: false, messages: [['execution_interrupted', { prompt_id: id }]] },
            };
            return;
          }
          if (faults.fail) {
            const err = {
              prompt_id: id,
              node_id: sampler[0],
              node_type: 'KSampler',
              exception_message: 'CUDA out of memory',
              exception_type: 'torch.OutOfMemoryError',
              traceback: [],
            };
            emit(clientId, { type: 'execution_error', data: err });
            job.history = {
              prompt: [number, id, graph, {}, [save[0]]],
              outputs: {},
              status: { status_str: 'error', completed: false, messages: [['execution_error', err]] },
            };
            return;
          }
          const filename = `aigc_${id.slice(0, 8)}_.png`;
          files.set(filename, await photo(width, height));
          job.history = {
            prompt: [number, id, graph, {}, [save[0]]],
            outputs: { [save[0]]: { images: [{ filename, subfolder: '', type: 'output' }] } },
            status: { status_str: 'success', completed: true, messages: [['execution_success', { prompt_id: id }]] },
          };
          emit(clientId, {
            type: 'executed',
            data: { node: save[0], prompt_id: id, output: { images: [{ filename, subfolder: '', type: 'output' }] } },
          });
          emit(clientId, { type: 'executing', data: { node: null, prompt_id: id } });
        })();
        return;
      }
      const history = /^\/history\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && history) {
        const job = jobs.get(history[1]);
        return sendJson(res, 200, job?.history ? { [history[1]]: job.history } : {});
      }
      if (req.method === 'GET' && url.pathname === '/view') {
        const file = files.get(url.searchParams.get('filename') ?? '');
        if (!file || url.searchParams.get('type') !== 'output') return sendJson(res, 404, {});
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': file.length });
        return void res.end(file);
      }
      if (req.method === 'POST' && (url.pathname === '/queue' || url.pathname === '/interrupt')) {
        const body = JSON.parse((await readBody(req)) || '{}') as { delete?: string[]; prompt_id?: string };
        for (const id of [...(body.delete ?? []), ...(body.prompt_id ? [body.prompt_id] : [])]) {
          const job = jobs.get(id);
          if (job && !job.cancelled) {
            job.cancelled = true;
            state.cancelled.push(id);
          }
        }
        res.writeHead(200);
        return void res.end();
      }
      sendJson(res, 404, {});
    },
    (server) => {
      if (!websocket) return;
      const wss = new WebSocketServer({ noServer: true });
      server.on('upgrade', (req, socket, head) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname !== '/ws') return socket.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => {
          const clientId = url.searchParams.get('clientId') ?? randomUUID();
          sockets.set(clientId, ws);
          ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId } }));
          ws.on('close', () => sockets.get(clientId) === ws && sockets.delete(clientId));
        });
      });
      server.on('close', () => wss.close());
    },
  );
}
