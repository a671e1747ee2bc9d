import type { Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';
import { errorMessage } from '../errors';

/** A dependency `/readyz` asks about: it throws when not ready; it may resolve with a `warning` that does not fail readiness. */
export type ReadinessCheck = { name: string; check(): Promise<unknown> };

const warningOf = (result: unknown) =>
  typeof result === 'object' && result !== null && typeof (result as { warning?: unknown }).warning === 'string'
    ? (result as { warning: string }).warning
    : undefined;

/**
 * The node's HTTP surface: `/healthz` (process up), `/readyz` (every dependency answers, each named in the body),
 * `/metrics` (Prometheus), and with `api` the routes the composition root mounts (the `/v1` API).
 */
export async function startHttpServer({
  host,
  port,
  registry,
  checks,
  beforeScrape,
  api,
}: {
  host: string;
  port: number;
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
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(port, host, () => resolve(s));
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
