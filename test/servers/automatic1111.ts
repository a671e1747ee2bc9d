import { jsonExact, parseJsonExact, lastRender, photo, readBody, renderTime, sendJson, startWireServer, type WireServer } from './common';

/**
 * Stable Diffusion web UI's API (`--api`): `POST /sdapi/v1/txt2img` → `{images: [base64], parameters, info}` where
 * `info` is a JSON string; `POST /sdapi/v1/interrupt`; `GET /sdapi/v1/samplers`; optional basic auth
 * (`--api-auth`) answering 401; 422 with FastAPI's `detail` list for bad bodies; 500 `{error, detail, body, errors}`.
 */
export async function startAutomatic1111Server({ auth }: { auth?: string } = {}): Promise<WireServer> {
  let interrupted = false;
  return startWireServer(async (req, res, state) => {
    if (auth && req.headers.authorization !== `Basic ${Buffer.from(auth).toString('base64')}`) {
      return sendJson(res, 401, { detail: 'Incorrect username or password' }, { 'www-authenticate': 'Basic' });
    }
    const path = req.url ?? '';
    if (req.method === 'GET' && path === '/sdapi/v1/samplers') {
      return sendJson(res, 200, [
        { name: 'Euler a', aliases: ['k_euler_a'], options: {} },
        { name: 'DPM++ 2M', aliases: [], options: {} },
      ]);
    }
    if (req.method === 'POST' && path === '/sdapi/v1/interrupt') {
      interrupted = true;
      state.cancelled.push('current');
      return sendJson(res, 200, {});
    }
    if (req.method === 'POST' && path === '/sdapi/v1/txt2img') {
      const body = parseJsonExact(await readBody(req)) as Record<string, unknown>;
      const missing = ['prompt', 'seed', 'width', 'height'].filter((k) => body[k] === undefined);
      if (missing.length || typeof body.width !== 'number') {
        return sendJson(res, 422, {
          detail: missing.map((k) => ({ loc: ['body', k], msg: 'field required', type: 'value_error.missing' })),
        });
      }
      if (state.faults.busy > 0) {
        state.faults.busy--;
        return sendJson(res, 503, { detail: 'Service Unavailable' });
      }
      state.last = lastRender(body);
      interrupted = false;
      const cancelled = await renderTime(state.faults.delayMs, state.faults.hang, () => interrupted || state.closed);
      if (state.faults.fail) {
        return sendJson(res, 500, {
          error: 'OutOfMemoryError',
          detail: '',
          body: '',
          errors: 'CUDA out of memory. Tried to allocate 2.00 GiB',
        });
      }
      const image = (await photo(Number(body.width), Number(body.height))).toString('base64');
      // An interrupted A1111 job still answers 200 with whatever it had; the client is gone by then anyway.
      const info = {
        prompt: body.prompt,
        seed: body.seed,
        sd_model_hash: '6ce0161689',
        sd_model_name: 'v1-5-pruned-emaonly',
        version: 'v1.10.1',
        interrupted: cancelled,
      };
      return sendJson(res, 200, { images: [image], parameters: body, info: jsonExact(info) });
    }
    sendJson(res, 404, { detail: 'Not Found' });
  });
}
