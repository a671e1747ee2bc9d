#!/usr/bin/env node
import { errorMessage } from '../../protocol/errors';
import { loadGatewayConfig } from './config';
import { serveGateway } from './serve';

/**
 * Standalone gateway process, configured by `GATEWAY_CONFIG` (JSON file) and `GATEWAY_*` env vars (see config.ts
 * and docs/operator.md); `aigc gateway` is the same with flags and --help. Without API keys it only binds to loopback.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig(); // refuses a non-loopback host without API keys
  await serveGateway(config, (url) => console.log(`diffusion gateway (backend: ${config.backend.name}) listening on ${url}`));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`error: ${errorMessage(error)}`);
    process.exit(2);
  },
);
