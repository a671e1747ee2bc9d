import { parseJsonExact, lastRender, photo, readBody, renderTime, sendJson, startWireServer, type WireServer } from './common';

/**
 * Cog's HTTP API (self-hosted container): `PUT /predictions/{id}` `{input}` runs synchronously and answers the
 * prediction with a data-URL output; a second prediction while one runs gets 409; re-PUT of a running id joins it;
 * `POST /predictions/{id}/cancel`; `GET /health-check` → `{status: READY|BUSY|STARTING|SETUP_FAILED|DEFUNCT}`.
 */
export async function startCogServer(): Promise<WireServer & { status: string }> {
  const running = new Map<string, { cancelled: boolean; done: Promise<unknown> }>();
  const server = await startWireServer(async (req, res, state) => {
    const path = req.url ?? '';
    if (req.method === 'GET' && path === '/health-check') {
      return sendJson(res, 200, {
        status:
          (state as WireServer & { status: string }).status === 'READY' && running.size
            ? 'BUSY'
            : (state as WireServer & { status: string }).status,
        setup: { status: 'succeeded' },
      });
    }
    const cancel = /^\/predictions\/([^/]+)\/cancel$/.exec(path);
    if (req.method === 'POST' && cancel) {
      const job = running.get(cancel[1]);
      if (!job) return sendJson(res, 404, { detail: 'Not Found' });
      job.cancelled = true;
      state.cancelled.push(cancel[1]);
      return sendJson(res, 200, {});
    }
    const put = /^\/predictions\/([^/]+)$/.exec(path);
    if (req.method === 'PUT' && put) {
      const id = put[1];
      const body = parseJsonExact(await readBody(req)) as { input?: Record<string, unknown> };
      const input = body.input;
      if (!input || typeof input.prompt !== 'string') {
        return sendJson(res, 422, { detail: [{ loc: ['body', 'input', 'prompt'], msg: 'field required', type: 'value_error.missing' }] });
      }
      const existing = running.get(id);
      if (existing) return sendJson(res, 200, await existing.done);
      if (state.faults.busy > 0 || running.size > 0) {
        if (state.faults.busy > 0) state.faults.busy--;
        return sendJson(res, 409, { detail: 'Already running a prediction' });
      }
      state.last = lastRender(input);
      const job = { cancelled: false, done: Promise.resolve<unknown>(undefined) };
      job.done = (async () => {
        const started = new Date().toISOString();
        const cancelled = await renderTime(state.faults.delayMs, state.faults.hang, () => job.cancelled || state.closed);
        if (cancelled) return { id, input, status: 'canceled', output: null, error: null, started_at: started };
        if (state.faults.fail)
          return { id, input, status: 'failed', output: null, error: 'CUDA out of memory', logs: 'Traceback …\nCUDA out of memory' };
        const png = await photo(Number(input.width), Number(input.height));
        return {
          id,
          input,
          status: 'succeeded',
          output: [`data:image/png;base64,${png.toString('base64')}`],
          error: null,
          started_at: started,
          completed_at: new Date().toISOString(),
          metrics: { predict_time: state.faults.delayMs / 1000 },
        };
      })();
      running.set(id, job);
      try {
        return sendJson(res, 200, await job.done);
      } finally {
        running.delete(id);
      }
    }
    sendJson(res, 404, { detail: 'Not Found' });
  });
  return Object.assign(server, { status: 'READY' });
}
