#!/usr/bin/env node
import { errorMessage } from '../../protocol/errors';
import { loadGatewayConfig } from './config';
import { serveGateway } from './serve';

/**
 * Standalone gateway process, configured by `GATEWAY_CONFIG` (JSON file) and `GATEWAY_*` env vars (see config.ts
 * and docs/operator.md); `aigc gateway` is the same with flags and --help. Without API keys it only binds to loopback.
 */
async function main(): Promise<void> {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    console.log(
      'usage: main.js   (settings from GATEWAY_CONFIG and GATEWAY_* env vars)\nThe same server with flags, --help and examples: aigc gateway --help',
    );
    return;
  }
  if (process.argv.length > 2) throw new Error(`unknown arguments ${process.argv.slice(2).join(' ')}: use \`aigc gateway\` for flags`);
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
