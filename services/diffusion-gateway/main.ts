#!/usr/bin/env node
import { errorMessage } from '../../protocol/errors';
import { createGateway } from './app';
import { createBackend } from './backends';
import { loadGatewayConfig } from './config';

/**
 * Standalone gateway process, configured by `GATEWAY_CONFIG` (JSON file) and `GATEWAY_*` env vars (see config.ts
 * and the README). Without API keys it only binds to loopback.
 */
function main(): void {
  let config;
  try {
    config = loadGatewayConfig();
  } catch (error) {
    return fail(errorMessage(error));
  }
  // The config refuses a non-loopback host without API keys.

  const gateway = createGateway({
    backend: createBackend(config.backend),
    apiKeys: config.apiKeys,
    limits: config.limits,
    prompt: config.prompt,
    output: config.output,
    moderation: config.moderation,
  });
  const server = gateway.app.listen(config.port, config.host, () => {
    const { port } = server.address() as { port: number };
    console.log(`diffusion gateway (backend: ${config.backend.name}) listening on http://${config.host}:${port}`);
  });
  const stop = () => {
    console.log('diffusion gateway: shutting down, letting running renders finish');
    void gateway.shutdown({ server }).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

main();
