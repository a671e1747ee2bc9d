import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus metrics, on a registry of its own (so several gateways in one process don't clash).
 *
 * @example
 * const metrics = createMetrics({ backend: 'local' });
 * res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
 */
export function createMetrics({ backend, defaults = false }: { backend: string; defaults?: boolean }) {
  const registry = new Registry();
  registry.setDefaultLabels({ backend });
  if (defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'gateway_requests_total',
      help: 'Generate requests by outcome code',
      labelNames: ['code'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'gateway_stage_seconds',
      help: 'Time per stage of a generate request',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: 'gateway_renders_running', help: 'Renders running on the backend', registers: [registry] }),
    queued: new Gauge({ name: 'gateway_renders_queued', help: 'Requests waiting for a render slot', registers: [registry] }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
