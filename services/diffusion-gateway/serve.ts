import { createGateway } from './app';
import { createBackend } from './backends';
import type { GatewayConfig } from './config';

/**
 * Serves the gateway for `config` until SIGINT or SIGTERM, then lets running renders finish (up to
 * `limits.shutdownGraceMs`) and resolves. `onListening` gets its URL. Shared by `main.ts` and `aigc gateway`.
 */
export async function serveGateway(config: GatewayConfig, onListening: (url: string) => void): Promise<void> {
  const gateway = createGateway({
    backend: createBackend(config.backend),
    apiKeys: config.apiKeys,
    limits: config.limits,
    prompt: config.prompt,
    output: config.output,
    moderation: config.moderation,
  });
  const server = await gateway.listen(config.port, config.host);
  onListening(`http://${config.host}:${(server.address() as { port: number }).port}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  console.log('diffusion gateway: shutting down, letting running renders finish');
  await gateway.shutdown({ server });
}
