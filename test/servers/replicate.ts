import { randomUUID } from 'node:crypto';
import { parseJsonExact, lastRender, photo, readBody, renderTime, sendJson, startWireServer, type WireServer } from './common';

type Pred = {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  status: string;
  output: string[] | null;
  error: string | null;
  logs: string;
  urls: Record<string, string>;
  created_at: string;
  cancelled: boolean;
};

/**
 * Replicate's HTTP API (v1): `POST /v1/models/{owner}/{name}/predictions` and `POST /v1/predictions {version}` with
 * `Prefer: wait=N` (blocks up to N s, then answers the unfinished prediction), `GET /v1/predictions/{id}`,
 * `POST /v1/predictions/{id}/cancel`, `GET /v1/account`; bearer auth (401), 429 with Retry-After; output files served
 * under `/files/` (and, like Replicate's, gone later: `expireFiles()`).
 */
export async function startReplicateServer({ token }: { token: string }): Promise<WireServer & { expireFiles(): void }> {
  const preds = new Map<string, Pred>();
  const files = new Map<string, Buffer>();
  const server = await startWireServer(async (req, res, state) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const base = state.url;
    if (url.pathname.startsWith('/files/')) {
      const file = files.get(url.pathname.slice(7));
      if (!file) return sendJson(res, 404, { detail: 'Not found.' });
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': file.length });
      return void res.end(file);
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      return sendJson(res, 401, { title: 'Unauthenticated', detail: 'You did not pass a valid authentication token', status: 401 });
    }
    if (req.method === 'GET' && url.pathname === '/v1/account') return sendJson(res, 200, { type: 'user', username: 'test', name: 'Test' });

    const create = /^\/v1\/models\/([^/]+\/[^/]+)\/predictions$/.exec(url.pathname);
    if (req.method === 'POST' && (create || url.pathname === '/v1/predictions')) {
      if (state.faults.busy > 0) {
        state.faults.busy--;
        return sendJson(res, 429, { title: 'Too Many Requests', detail: 'Request was throttled.', status: 429 }, { 'retry-after': '0' });
      }
      const body = parseJsonExact(await readBody(req)) as { version?: string; input?: Record<string, unknown> };
      const input = body.input ?? {};
      if (typeof input.prompt !== 'string') {
        return sendJson(res, 422, {
          title: 'Input validation failed',
          detail: '- input: prompt is required',
          status: 422,
          invalid_fields: [{ type: 'required', field: 'input', description: 'prompt is required' }],
        });
      }
      if (!create && !body.version) return sendJson(res, 422, { title: 'Invalid version', detail: 'version is required', status: 422 });
      state.last = lastRender(input);
      const id = randomUUID().replace(/-/g, '').slice(0, 26);
      const pred: Pred = {
        id,
        model: create?.[1] ?? 'owner/model',
        version: body.version ?? 'hidden',
        input,
        status: 'starting',
        output: null,
        error: null,
        logs: '',
        urls: { get: `${base}/v1/predictions/${id}`, cancel: `${base}/v1/predictions/${id}/cancel` },
        created_at: new Date().toISOString(),
        cancelled: false,
      };
      preds.set(id, pred);
      const faults = { ...state.faults };
      const done = (async () => {
        pred.status = 'processing';
        const cancelled = await renderTime(faults.delayMs, faults.hang, () => pred.cancelled || state.closed);
        if (cancelled) return void (pred.status = 'canceled');
        if (faults.fail) {
          pred.status = 'failed';
          pred.error = 'CUDA out of memory';
          return;
        }
        files.set(`${id}.png`, await photo(Number(input.width), Number(input.height)));
        pred.output = [`${base}/files/${id}.png`];
        pred.status = 'succeeded';
      })();
      const wait = /wait(?:=(\d+))?/.exec(String(req.headers.prefer ?? ''));
      if (wait) await Promise.race([done, new Promise((r) => setTimeout(r, Number(wait[1] ?? 60) * 1000))]);
      return sendJson(res, 201, view(pred));
    }
    const get = /^\/v1\/predictions\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && get) {
      const pred = preds.get(get[1]);
      return pred ? sendJson(res, 200, view(pred)) : sendJson(res, 404, { title: 'Not found', status: 404 });
    }
    const cancel = /^\/v1\/predictions\/([^/]+)\/cancel$/.exec(url.pathname);
    if (req.method === 'POST' && cancel) {
      const pred = preds.get(cancel[1]);
      if (!pred) return sendJson(res, 404, { title: 'Not found', status: 404 });
      pred.cancelled = true;
      state.cancelled.push(pred.id);
      return sendJson(res, 200, view(pred));
    }
    sendJson(res, 404, { title: 'Not found', status: 404 });
  });
  return Object.assign(server, { expireFiles: () => files.clear() });
}

function view({ cancelled: _c, ...pred }: Pred): Omit<Pred, 'cancelled'> {
  return pred;
}
