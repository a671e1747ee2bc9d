import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';
import { errorMessage } from '../errors';

/** A dependency `/readyz` asks about: it throws when not ready; it may resolve with a `warning` that does not fail readiness. */
export type ReadinessCheck = { name: string; check(): Promise<unknown> };

const warningOf = (result: unknown) =>
  typeof result === 'object' && result !== null && typeof (result as { warning?: unknown }).warning === 'string'
    ? (result as { warning: string }).warning
    : undefined;

/** Slow-loris guards of the node's server (config `http.*TimeoutMs`). */
export type ServerTimeouts = {
  /** A client must have sent its request headers within this, or gets 408 and is disconnected. */
  headersTimeoutMs: number;
  /** …and its whole request. Receiving only: an event stream (`…/events`) runs as long as it needs. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
};

/**
 * The node's HTTP surface: `/healthz` (process up), `/readyz` (every dependency answers, each named in the body),
 * `/metrics` (Prometheus), and with `api` the routes the composition root mounts (the `/v1` API). The one place the
 * node's server is made, so every route has the slow-loris timeouts.
 */
export async function startHttpServer({
  host,
  port,
  registry,
  checks,
  beforeScrape,
  api,
  timeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 },
}: {
  host: string;
  port: number;
  /** @defaultValue 10 s for headers, 30 s for the request, 5 s idle keep-alive (the config's defaults) */
  timeouts?: ServerTimeouts;
  registry: Registry;
  checks: ReadinessCheck[];
  /** Refreshes gauges that are read on demand (queue depths, balances). */
  beforeScrape?: () => Promise<void>;
  /** Routes mounted after the built-in ones (the `/v1` API of sponsored mints and request status); absent = none. */
  api?: express.Router;
}): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 3 s')), 3_000).unref());
        try {
          const warning = warningOf(await Promise.race([check(), timeout]));
          return warning ? { name, ok: true, warning } : { name, ok: true };
        } catch (error) {
          return { name, ok: false, error: errorMessage(error) };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    res.status(ok ? 200 : 503).json({ ok, checks: results });
  });
  app.get('/metrics', async (_req, res) => {
    await beforeScrape?.().catch(() => undefined);
    res.set('content-type', registry.contentType).send(await registry.metrics());
  });
  if (api) app.use(api);
  const server: Server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      // Node checks the two timeouts every 30 s by default, which would let a slow client hold on that long.
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(timeouts.headersTimeoutMs / 4))),
    },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
