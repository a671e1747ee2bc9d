import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { DiffusionBackend } from './backends/types';
import { normalizePrompt } from './prompt';
import { generateRequestSchema, type GenerateResponse } from './request';

export type GatewayOptions = {
  /** The backend that renders; `models` of `GET /v1/models` come from it. */
  backend: DiffusionBackend;
  /**
   * Accepted bearer API keys. Empty: no auth (only safe on loopback; `main.ts` refuses otherwise).
   * @defaultValue []
   */
  apiKeys?: string[];
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

function keyMatches(given: string, keys: string[]): boolean {
  const digest = createHash('sha256').update(given).digest();
  return keys.some((k) => timingSafeEqual(digest, createHash('sha256').update(k).digest()));
}

/**
 * The diffusion gateway's HTTP app: `POST /v1/generate`, `GET /v1/models`, `GET /healthz`.
 *
 * @example
 * const app = createGatewayApp({ backend: createLocalBackend(), apiKeys: ['secret'] });
 * app.listen(8080, '127.0.0.1');
 */
export function createGatewayApp({ backend, apiKeys = [] }: GatewayOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, backend: backend.name });
  });

  app.use('/v1', (req, _res, next) => {
    if (apiKeys.length === 0) return next();
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !keyMatches(token, apiKeys)) {
      return next(new HttpError(401, 'UNAUTHORIZED', 'missing or unknown API key: send Authorization: Bearer <key>'));
    }
    next();
  });

  app.get('/v1/models', (_req, res) => {
    res.json({ backend: backend.name, deterministic: backend.deterministic, models: backend.models });
  });

  app.post('/v1/generate', express.json({ limit: '64kb' }), async (req, res, next) => {
    try {
      const parsed = generateRequestSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        const fields = Object.fromEntries(
          parsed.error.issues.flatMap((i) =>
            i.code === 'unrecognized_keys' ? i.keys.map((k) => [k, 'unknown field']) : [[i.path.join('.') || 'body', i.message]],
          ),
        );
        throw new HttpError(400, 'INVALID_REQUEST', 'invalid generate request', fields);
      }
      const body = parsed.data;
      if (body.model && !backend.models.some((m) => m.id === body.model)) {
        throw new HttpError(400, 'INVALID_REQUEST', `unknown model "${body.model}": see GET /v1/models`);
      }
      const prompt = normalizePrompt(body.prompt);
      if (!prompt) throw new HttpError(400, 'INVALID_REQUEST', 'prompt is empty after normalisation', { prompt: 'no visible text' });

      const started = performance.now();
      const out = await backend.render({ ...body, prompt, negativePrompt: normalizePrompt(body.negativePrompt) });
      const renderMs = Math.round(performance.now() - started);
      const sha256 = createHash('sha256').update(out.image).digest('hex');

      if (req.accepts(['image/*', 'application/json']) === 'application/json') {
        const payload: GenerateResponse = {
          image: out.image.toString('base64'),
          mime: out.mime,
          sha256,
          seed: body.seed,
          width: out.width,
          height: out.height,
          prompt,
          model: out.model,
          timings: { renderMs },
        };
        res.json(payload);
        return;
      }
      res
        .set({
          'content-type': out.mime,
          'x-image-sha256': sha256,
          'x-seed': String(body.seed),
          'x-model': JSON.stringify(out.model),
          'x-render-ms': String(renderMs),
        })
        .send(out.image);
    } catch (error) {
      next(error);
    }
  });

  app.use((_req, _res, next) => next(new HttpError(404, 'NOT_FOUND', 'no such route: see /v1/models, /v1/generate')));

  // Express 5 needs all four parameters to recognise an error handler.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message, fields: error.fields } });
      return;
    }
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      // body-parser: malformed JSON, body too large, wrong content type
      res.status(status).json({ error: { code: 'INVALID_REQUEST', message: (error as Error).message } });
      return;
    }
    res.status(500).json({ error: { code: 'BACKEND_FAILED', message: 'the backend failed to render; see gateway logs' } });
  });
  return app;
}

