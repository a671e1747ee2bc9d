import { renderLocal } from '../services/diffusion-gateway/backends/local';
import { sharedClassifier } from '../services/diffusion-gateway/moderation';
import { spawnRole } from './processes';

const CONCURRENCY = 16;
const REQUESTS = 800;
/** Direct and gateway runs alternate in this many blocks, so background load hits both alike. */
const BLOCKS = 5;
const RENDER_MS = 200;
/** Classifications of 512² images timed for `moderationMs` (after one warm-up). */
const MODERATION_RUNS = 15;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs `count` calls of `fn` with `CONCURRENCY` in flight; returns latencies and throughput. */
async function load(fn: () => Promise<void>, count: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) {
        const t = performance.now();
        await fn();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { latencies, seconds };
}

async function check(res: Response): Promise<void> {
  const body = await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${Buffer.from(body).toString().slice(0, 300)}`);
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Gateway overhead: the same A1111-protocol server with a fixed 200 ms render is called directly and through the
 * gateway (automatic1111 backend, PNG post-processing) at concurrency 16, each in its own process; overhead = gateway − direct per
 * percentile. Also times the `local` renderer at 512² and 1024² (median of 7).
 */
export async function benchGateway(): Promise<Record<string, unknown>> {
  const backendServer = await spawnRole({ role: 'backend', delayMs: RENDER_MS });
  const gateway = await spawnRole({ role: 'gateway', backendUrl: backendServer.url, concurrency: CONCURRENCY });
  const gatewayUrl = gateway.url;

  const size = 64;
  const direct = () =>
    fetch(`${backendServer.url}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'a lighthouse at dusk',
        negative_prompt: '',
        seed: 1,
        steps: 25,
        cfg_scale: 7,
        sampler_name: 'Euler a',
        width: size,
        height: size,
        batch_size: 1,
      }),
    }).then(check);
  const viaGateway = () =>
    fetch(`${gatewayUrl}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse at dusk', seed: 1, width: size, height: size }),
    }).then(check);

  // Warm up connections, tiktoken, sharp and the JIT.
  for (let i = 0; i < 64; i++) await Promise.all([direct(), viaGateway()]);
  const d = { latencies: [] as number[], seconds: 0 };
  const g = { latencies: [] as number[], seconds: 0 };
  for (let block = 0; block < BLOCKS; block++) {
    for (const [fn, into] of [
      [direct, d],
      [viaGateway, g],
    ] as const) {
      const run = await load(fn, REQUESTS / BLOCKS);
      into.latencies.push(...run.latencies);
      into.seconds += run.seconds;
    }
  }
  d.latencies.sort((a, b) => a - b);
  g.latencies.sort((a, b) => a - b);

  const localMs = async (side: number) => {
    const times: number[] = [];
    await renderLocal({ prompt: 'a lighthouse at dusk', negativePrompt: '', seed: 0, width: side, height: side });
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      await renderLocal({ prompt: 'a lighthouse at dusk', negativePrompt: '', seed: i + 1, width: side, height: side });
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[3];
  };
  gateway.child.kill();
  backendServer.child.kill();
  const local512Ms = await localMs(512);
  const local1024Ms = await localMs(1024);
  const moderationMs = await moderationTimes();
  return {
    bench: 'gateway',
    overheadP50Ms: round(Math.max(0, percentile(g.latencies, 50) - percentile(d.latencies, 50))),
    overheadP99Ms: round(Math.max(0, percentile(g.latencies, 99) - percentile(d.latencies, 99))),
    rps: round(REQUESTS / g.seconds),
    local512Ms: round(local512Ms),
    local1024Ms: round(local1024Ms),
    moderationMs,
  };
}

/**
 * What moderation adds to a request: the classifier (loaded once, not timed) scoring distinct 512² local renders,
 * decode and resize included, as the gateway runs it.
 */
async function moderationTimes(): Promise<{ p50: number; p99: number; runs: number; classifier: string }> {
  const classifier = await sharedClassifier();
  const images = await Promise.all(
    Array.from({ length: MODERATION_RUNS + 1 }, (_, i) =>
      renderLocal({ prompt: 'a lighthouse at dusk', negativePrompt: '', seed: 100 + i, width: 512, height: 512 }),
    ),
  );
  await classifier.classify(images[0].image);
  const times: number[] = [];
  for (const { image } of images.slice(1)) {
    const t = performance.now();
    await classifier.classify(image);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: round(percentile(times, 50)), p99: round(percentile(times, 99)), runs: times.length, classifier: classifier.name };
}
