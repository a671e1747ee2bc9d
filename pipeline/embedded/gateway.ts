import { createGateway } from '../../services/diffusion-gateway/app';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';

export type EmbeddedGateway = { url: string; stop(): Promise<void> };

/**
 * The diffusion gateway in this process on a free loopback port, as the embedded stack runs it: no API keys, and
 * long prompts cut at the token budget (as CLIP does) rather than refused.
 *
 * @example
 * const gateway = await startEmbeddedGateway(); // the deterministic `local` renderer
 * const client = createGatewayClient({ url: gateway.url, timeoutMs: 60_000 });
 * await gateway.stop();
 */
export async function startEmbeddedGateway({
  backend = createLocalBackend(),
}: { backend?: DiffusionBackend } = {}): Promise<EmbeddedGateway> {
  const server = await createGateway({ backend, prompt: { overflow: 'truncate' } }).listen(0, '127.0.0.1');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
