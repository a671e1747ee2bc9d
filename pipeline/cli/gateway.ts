import { type GatewayConfig, loadGatewayConfig } from '../../services/diffusion-gateway/config';
import { serveGateway } from '../../services/diffusion-gateway/serve';
import { AigcError } from '../errors';
import { jsonLine } from './output';

export type GatewayCommandOptions = {
  config?: string;
  host?: string;
  port?: number;
  backend?: string;
  backendUrl?: string;
  model?: string;
  apiKeys?: string;
  concurrency?: number;
  timeout?: number;
  check?: boolean;
};

/** The env vars the flags stand for: a flag is the same setting as its variable, and wins over it. */
function flagEnv(o: GatewayCommandOptions, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const text = (v: number | string | undefined) => (v === undefined ? undefined : String(v));
  return {
    GATEWAY_CONFIG: o.config,
    GATEWAY_HOST: o.host,
    GATEWAY_PORT: text(o.port),
    GATEWAY_BACKEND: o.backend,
    GATEWAY_BACKEND_URL: o.backendUrl,
    GATEWAY_BACKEND_MODEL: o.model,
    GATEWAY_API_KEYS: o.apiKeys === undefined ? undefined : keysOf(o.apiKeys, env),
    GATEWAY_CONCURRENCY: text(o.concurrency),
    GATEWAY_TIMEOUT_MS: text(o.timeout),
  };
}

/** `env:NAME` reads the keys from a variable (keeps them out of `ps`); anything else is the keys themselves. */
function keysOf(value: string, env: NodeJS.ProcessEnv): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice(4);
  const keys = env[name];
  if (!keys) throw new AigcError('CONFIG_INVALID', `--api-keys env:${name}: the variable ${name} is not set`);
  return keys;
}

/** The config with secrets replaced, for `--check`. */
function redacted(config: GatewayConfig): unknown {
  const backend: Record<string, unknown> = { ...config.backend };
  for (const secret of ['token', 'password']) if (backend[secret]) backend[secret] = '***';
  return { ...config, apiKeys: config.apiKeys.map(() => '***'), backend };
}

/** `aigc gateway`: loads the gateway config from file, env and flags, then serves until SIGINT or SIGTERM. */
export async function gatewayCommand(o: GatewayCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const overrides = Object.fromEntries(Object.entries(flagEnv(o, env)).filter(([, v]) => v !== undefined));
  const config = loadGatewayConfig({ env: { ...env, ...overrides } });
  if (o.check) {
    console.log(jsonLine(redacted(config)));
    return;
  }
  await serveGateway(config, (url) =>
    console.log(`diffusion gateway (backend: ${config.backend.name}) listening on ${url}; Ctrl-C to stop`),
  );
}
