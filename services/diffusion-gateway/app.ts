import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type AigcError } from '../../protocol/errors';
import { createRateLimiter } from '../../protocol/rate-limit';
import type { DiffusionBackend } from './backends/types';
import type { GatewayConfig } from './config';
import { ERROR_HTTP } from '../../protocol/gateway';
import { gatewayError, isGatewayError } from './errors';
import { createGate } from './limits';
import { createMetrics } from './metrics';
import { createModerator, DEFAULT_THRESHOLDS, type ImageClassifier } from './moderation';
import { DEFAULT_PROMPT_POLICY, warmTokenizer, type PromptPolicy } from './prompt';
import { handleGenerate } from './routes/generate';
import { bodyProblem } from '../../protocol/body-problem';
import { apiKeyMatcher, bearerToken } from '../../protocol/api-keys';

export type GatewayOptions = {
  /** The backend that renders; `models` of `GET /v1/models` come from it. */
  backend: DiffusionBackend;
  /**
   * Accepted bearer API keys. Empty: no auth (only safe on loopback; `main.ts` refuses otherwise).
   * @defaultValue []
   */
  apiKeys?: string[];
  limits?: Partial<GatewayConfig['limits']>;
  prompt?: Partial<PromptPolicy>;
  output?: Partial<GatewayConfig['output']>;
  /**
   * The gateway's own image moderation; requests may ask for stricter. @defaultValue off, with the default thresholds
   */
  moderation?: Partial<GatewayConfig['moderation']>;
  /** Loads the image classifier (tests count calls). @defaultValue the process's shared nsfwjs classifier */
  loadClassifier?: () => Promise<ImageClassifier>;
};

export type Gateway = {
  app: express.Express;
  /**
   * Serves `app` on `host:port` with the slow-loris guards of `limits` (headers, request and keep-alive timeouts),
   * the one way the gateway's server should be made.
   */
  listen(port: number, host: string): Promise<Server>;
  /** Stops taking requests, lets running renders finish for `graceMs`, then cancels the rest and closes `server`. */
  shutdown(options: { server: Server; graceMs?: number }): Promise<void>;
};

/** Largest JSON body of `POST /v1/generate`: a prompt and a few numbers need far less. */
const MAX_BODY = '2mb';

/**
 * The diffusion gateway: `POST /v1/generate`, `GET /v1/models`, `/healthz`, `/readyz`, `/metrics`, with auth,
 * per-key rate limit, a per-backend queue, timeouts, cancellation and graceful shutdown.
 *
 * @example
 * const gateway = createGateway({ backend: createLocalBackend(), apiKeys: ['a-long-secret-key-123'] });
 * const server = await gateway.listen(8080, '127.0.0.1');
 * process.once('SIGTERM', () => gateway.shutdown({ server }));
 */
export function createGateway({
  backend,
  apiKeys = [],
  limits = {},
  prompt = {},
  output = {},
  moderation = {},
  loadClassifier,
}: GatewayOptions): Gateway {
  const lim = {
    concurrency: 2,
    queueLimit: 64,
    timeoutMs: 120_000,
    ratePerMinute: 0,
    burst: 10,
    shutdownGraceMs: 30_000,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    ...limits,
  };
  const policy: PromptPolicy = { ...DEFAULT_PROMPT_POLICY, ...prompt };
  const gate = createGate({ concurrency: lim.concurrency, queueLimit: lim.queueLimit, backend: backend.name });
  const matchKey = apiKeyMatcher(apiKeys);
  const limiter = createRateLimiter({ perMinute: lim.ratePerMinute, burst: lim.burst });
  const metrics = createMetrics({ backend: backend.name });
  const moderator = createModerator({
    policy: { policy: moderation.policy ?? 'off', thresholds: moderation.thresholds ?? DEFAULT_THRESHOLDS },
    load: loadClassifier,
  });
  const inFlight = new Set<AbortController>();
  let draining = false;
  warmTokenizer();

  const app = express();
  app.disable('x-powered-by');
  // Images carry their own sha256 header; a second hash of every body is wasted work.
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, backend: backend.name });
  });
  app.get('/readyz', async (_req, res, next) => {
    try {
      if (draining) throw gatewayError({ code: 'BACKEND_UNAVAILABLE', message: 'gateway is shutting down' });
      await backend.ready(AbortSignal.timeout(5_000));
      res.json({ ok: true, backend: backend.name, running: gate.running, queued: gate.queued });
    } catch (error) {
      next(error);
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use('/v1', (req, res, next) => {
    let key = req.ip ?? 'unknown';
    if (apiKeys.length) {
      const digest = matchKey(bearerToken(req.get('authorization')));
      if (!digest) {
        return next(gatewayError({ code: 'UNAUTHORIZED', message: 'missing or unknown API key: send Authorization: Bearer <key>' }));
      }
      key = digest;
    }
    const waitS = limiter.take(key);
    if (waitS > 0) {
      return next(
        gatewayError({
          code: 'RATE_LIMITED',
          message: `rate limit of ${lim.ratePerMinute}/min for this key; retry in ${waitS} s`,
          retryAfterMs: waitS * 1_000,
        }),
      );
    }
    next();
  });

  app.get('/v1/models', (_req, res) => {
    res.json({ backend: backend.name, deterministic: backend.deterministic, capabilities: backend.capabilities, models: backend.models });
  });

  app.post('/v1/generate', express.json({ limit: MAX_BODY }), async (req, res, next) => {
    try {
      if (draining) throw gatewayError({ code: 'BACKEND_UNAVAILABLE', message: 'gateway is shutting down' });
      await handleGenerate(
        {
          backend,
          gate,
          metrics,
          policy,
          moderator,
          output: { format: output.format ?? 'png', quality: output.quality },
          timeoutMs: lim.timeoutMs,
          track: (c) => {
            inFlight.add(c);
            return () => inFlight.delete(c);
          },
        },
        req,
        res,
      );
    } catch (error) {
      next(error);
    }
  });

  app.use((_req, _res, next) => next(gatewayError({ code: 'NOT_FOUND', message: 'no such route: see /v1/models, /v1/generate' })));

  // Express 5 needs all four parameters to recognise an error handler.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent || res.destroyed) return;
    let e: AigcError & { fields?: Record<string, string> };
    if (isGatewayError(error)) e = error;
    else if ((error as { status?: number }).status && (error as { status: number }).status < 500) {
      // body-parser: malformed JSON, body too large, wrong content type. `fields.body` names it, as for any bad field.
      e = gatewayError({
        code: 'INVALID_REQUEST',
        message: `invalid request body: ${(error as Error).message}`,
        fields: { body: bodyProblem(error) },
      });
    } else {
      console.error('gateway: unexpected error', error);
      e = gatewayError({ code: 'BACKEND_FAILED', message: 'the backend failed to render; see gateway logs' });
    }
    if (e.retryAfterMs !== undefined) res.set('retry-after', String(Math.max(1, Math.ceil(e.retryAfterMs / 1_000))));
    res
      .status(ERROR_HTTP[e.code as keyof typeof ERROR_HTTP].status)
      .json({ error: { code: e.code, message: e.shortMessage, retryable: e.retryable, fields: e.fields } });
  });

  return {
    app,
    listen: (port, host) =>
      new Promise<Server>((resolve, reject) => {
        const server = createServer(
          {
            headersTimeout: lim.headersTimeoutMs,
            requestTimeout: lim.requestTimeoutMs,
            keepAliveTimeout: lim.keepAliveTimeoutMs,
            // Node checks the two timeouts every 30 s by default, which would let a slow client hold on that long.
            connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(lim.headersTimeoutMs / 4))),
          },
          app,
        );
        server.once('error', reject).listen(port, host, () => {
          server.off('error', reject);
          resolve(server);
        });
      }),
    async shutdown({ server, graceMs = lim.shutdownGraceMs }) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (inFlight.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of inFlight)
        c.abort(gatewayError({ code: 'BACKEND_UNAVAILABLE', message: 'gateway shut down before the render finished' }));
      // Give the cancelled handlers a moment to answer 503, then drop what remains.
      const until = Date.now() + 1_000;
      while (inFlight.size && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 200).unref();
      await closed;
    },
  };
}

/**
 * The gateway's express app alone, for in-process tests (`createGateway(…).listen` adds the slow-loris timeouts and
 * `shutdown`).
 *
 * @example
 * createGatewayApp({ backend: createLocalBackend() }).listen(0, '127.0.0.1');
 */
export function createGatewayApp(options: GatewayOptions): express.Express {
  return createGateway(options).app;
}
