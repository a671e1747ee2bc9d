import type { Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';
import { errorMessage } from '../errors';
import { createSponsoredRouter, type SponsoredRoutesDeps } from '../sponsored/routes';

export type ReadinessCheck = { name: string; check(): Promise<unknown> };

/**
 * The node's HTTP surface: `/healthz` (process up), `/readyz` (every dependency answers, each named in the body),
 * `/metrics` (Prometheus), and with `api` the sponsored-mint API (`/v1/mints`, `/v1/requests`, see `../sponsored/routes.ts`).
 */
export async function startHttpServer({ host, port, registry, checks, beforeScrape, api }: {
  host: string;
  port: number;
  registry: Registry;
  checks: ReadinessCheck[];
  /** Refreshes gauges that are read on demand (queue depths, balances). */
  beforeScrape?: () => Promise<void>;
  /** Dependencies of the `/v1` routes (sponsored mints, status, event streams); absent = no `/v1` routes. */
  api?: SponsoredRoutesDeps;
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
          await Promise.race([check(), timeout]);
          return { name, ok: true };
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
  if (api) app.use(createSponsoredRouter(api));
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
