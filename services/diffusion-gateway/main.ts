#!/usr/bin/env node
import { createGatewayApp } from './app';
import { createLocalBackend } from './backends/local';

/**
 * Standalone gateway process. Settings from env:
 *   GATEWAY_HOST (127.0.0.1), GATEWAY_PORT (8080), GATEWAY_API_KEYS (comma-separated), GATEWAY_BACKEND (local).
 * Without API keys it only binds to loopback.
 */
function main(): void {
  const host = process.env.GATEWAY_HOST ?? '127.0.0.1';
  const port = Number(process.env.GATEWAY_PORT ?? 8080);
  const apiKeys = (process.env.GATEWAY_API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  const backendName = process.env.GATEWAY_BACKEND ?? 'local';
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(host);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`GATEWAY_PORT must be a port number, got "${process.env.GATEWAY_PORT}"`);
  if (!apiKeys.length && !loopback) fail(`refusing to listen on ${host} without API keys: set GATEWAY_API_KEYS`);
  if (backendName !== 'local') fail(`unknown GATEWAY_BACKEND "${backendName}": available: local`);

  const server = createGatewayApp({ backend: createLocalBackend(), apiKeys }).listen(port, host, () => {
    console.log(`diffusion gateway (backend: ${backendName}) listening on http://${host}:${port}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

main();
