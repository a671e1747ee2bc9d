import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AigcError } from '../../protocol/errors';
import { MODERATION_MODES, moderationThresholdsSchema, OUTPUT_FORMATS } from '../../protocol/gateway';
import { keysAt, suggest } from '../../protocol/suggest';
import { DEFAULT_THRESHOLDS, parseThresholds } from './moderation/policy';

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Which backend renders, and how to reach it. One variant per backend file under `backends/`. */
export const backendConfigSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('local') }),
  z.strictObject({
    name: z.literal('replicate'),
    token: z.string().min(1, 'a Replicate API token is required'),
    baseUrl: url.default('https://api.replicate.com/v1'),
    /** `owner/name` (official model) or `owner/name:version`. */
    model: z.string().regex(/^[\w.-]+\/[\w.-]+(:[0-9a-f]{8,})?$/, 'owner/name or owner/name:version'),
    /** Seconds the create call blocks with `Prefer: wait` before polling takes over (1–60). */
    waitSeconds: z.number().int().min(1).max(60).default(60),
    pollIntervalMs: z.number().int().min(10).default(1_000),
  }),
  z.strictObject({
    name: z.literal('automatic1111'),
    url,
    username: z.string().optional(),
    password: z.string().optional(),
    /** Checkpoint title to force via override_settings; the server's loaded one when absent. */
    checkpoint: z.string().optional(),
  }),
  z.strictObject({
    name: z.literal('comfyui'),
    url,
    /** Path of an API-format graph JSON with {{prompt}} {{negative_prompt}} {{seed}} {{width}} {{height}} placeholders. */
    graphPath: z.string().optional(),
    /** Checkpoint file for the default txt2img graph. */
    checkpoint: z.string().default('v1-5-pruned-emaonly.safetensors'),
    /** Use the /ws progress socket; history polling is always the fallback. */
    websocket: z.boolean().default(true),
    pollIntervalMs: z.number().int().min(10).default(500),
  }),
  z.strictObject({
    name: z.literal('cog'),
    url,
    /** Label of the model the container serves (Cog does not report one). */
    model: z.string().default('cog-model'),
    version: z.string().default('unknown'),
  }),
]);
export type BackendConfig = z.infer<typeof backendConfigSchema>;

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

/** The whole gateway configuration: one schema, filled from a JSON file and/or env vars. */
export const gatewayConfigSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    apiKeys: z.array(z.string().min(16, 'API keys must have at least 16 characters')).default([]),
    backend: backendConfigSchema.default({ name: 'local' }),
    limits: z
      .strictObject({
        /** Renders running at once on the backend; more wait in the gateway's queue. */
        concurrency: z.number().int().min(1).default(2),
        /** Requests waiting beyond this answer BACKEND_BUSY at once. */
        queueLimit: z.number().int().min(0).default(64),
        /** Whole request (queue + render + post-processing). */
        timeoutMs: z.number().int().min(100).default(120_000),
        /**
         * Per API key (or client address without keys); 0 = unlimited. Off by default: the node is usually the only
         * client and paces itself; set it when keys are handed to other services.
         */
        ratePerMinute: z.number().min(0).default(0),
        burst: z.number().int().min(1).default(10),
        /** How long shutdown waits for running renders before cancelling them. */
        shutdownGraceMs: z.number().int().min(0).default(30_000),
        /** Slow-loris guard: a client must have sent its request headers within this, or the connection is closed (408). */
        headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
        /** The whole request (headers and body) within this. Only receiving it: the render and the answer are not bounded here. */
        requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
        /** An idle keep-alive connection is closed after this. */
        keepAliveTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
      })
      .refine((l) => l.headersTimeoutMs <= l.requestTimeoutMs, {
        path: ['headersTimeoutMs'],
        message: 'must be at most limits.requestTimeoutMs (GATEWAY_REQUEST_TIMEOUT_MS): the headers are part of the request',
      })
      .prefault({}),
    prompt: z
      .strictObject({
        maxTokens: z.number().int().min(1).max(1_000).default(75),
        overflow: z.enum(['reject', 'truncate']).default('truncate'),
        blockList: z.array(z.string()).default([]),
        frame: z
          .string()
          .refine((f) => f.includes('{prompt}'), 'must contain {prompt}')
          .default('{prompt}'),
        negativePrompt: z.string().default(''),
      })
      .prefault({}),
    output: z
      .strictObject({
        format: z.enum(OUTPUT_FORMATS).default('png'),
        quality: z.number().int().min(1).max(100).optional(),
      })
      .prefault({}),
    /** Image moderation after rendering; a request may ask for stricter (its collection's policy), never looser. */
    moderation: z
      .strictObject({
        policy: z.enum(MODERATION_MODES).default('off'),
        thresholds: moderationThresholdsSchema.default(DEFAULT_THRESHOLDS),
      })
      .prefault({}),
  })
  .refine((c) => c.apiKeys.length > 0 || LOOPBACK.includes(c.host), {
    path: ['apiKeys'],
    message: 'required when host is not a loopback address: set GATEWAY_API_KEYS, or GATEWAY_HOST=127.0.0.1',
  });
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const num = (v: string) => (v.trim() === '' ? v : Number(v));

/** Env var → config path and parser. `GATEWAY_CONFIG` names a JSON file read first; env vars override it. */
const ENV: Record<string, [string, (v: string) => unknown]> = {
  GATEWAY_HOST: ['host', String],
  GATEWAY_PORT: ['port', num],
  GATEWAY_API_KEYS: ['apiKeys', list],
  GATEWAY_BACKEND: ['backend.name', String],
  GATEWAY_BACKEND_URL: ['backend.url', String],
  GATEWAY_BACKEND_MODEL: ['backend.model', String],
  GATEWAY_BACKEND_USERNAME: ['backend.username', String],
  GATEWAY_BACKEND_PASSWORD: ['backend.password', String],
  GATEWAY_BACKEND_CHECKPOINT: ['backend.checkpoint', String],
  GATEWAY_COMFYUI_GRAPH: ['backend.graphPath', String],
  REPLICATE_API_TOKEN: ['backend.token', String],
  REPLICATE_BASE_URL: ['backend.baseUrl', String],
  GATEWAY_CONCURRENCY: ['limits.concurrency', num],
  GATEWAY_QUEUE_LIMIT: ['limits.queueLimit', num],
  GATEWAY_TIMEOUT_MS: ['limits.timeoutMs', num],
  GATEWAY_RATE_PER_MINUTE: ['limits.ratePerMinute', num],
  GATEWAY_BURST: ['limits.burst', num],
  GATEWAY_HEADERS_TIMEOUT_MS: ['limits.headersTimeoutMs', num],
  GATEWAY_REQUEST_TIMEOUT_MS: ['limits.requestTimeoutMs', num],
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: ['limits.keepAliveTimeoutMs', num],
  GATEWAY_MAX_PROMPT_TOKENS: ['prompt.maxTokens', num],
  GATEWAY_PROMPT_OVERFLOW: ['prompt.overflow', String],
  GATEWAY_BLOCK_LIST: ['prompt.blockList', list],
  GATEWAY_PROMPT_FRAME: ['prompt.frame', String],
  GATEWAY_NEGATIVE_PROMPT: ['prompt.negativePrompt', String],
  GATEWAY_FORMAT: ['output.format', String],
  GATEWAY_QUALITY: ['output.quality', num],
  GATEWAY_MODERATION: ['moderation.policy', String],
  GATEWAY_MODERATION_THRESHOLDS: ['moderation.thresholds', parseThresholds],
};

/** Backend-only keys that do not apply to every backend; dropped when the chosen backend lacks them. */
const BACKEND_KEYS: Record<string, string[]> = {
  local: [],
  replicate: ['token', 'baseUrl', 'model'],
  automatic1111: ['url', 'username', 'password', 'checkpoint'],
  comfyui: ['url', 'graphPath', 'checkpoint'],
  cog: ['url', 'model'],
};

/**
 * Loads and validates the gateway config from `GATEWAY_CONFIG` (JSON file) and `GATEWAY_*` env vars.
 * Throws CONFIG_INVALID naming each bad setting.
 *
 * @example
 * const config = loadGatewayConfig({ env: { GATEWAY_BACKEND: 'cog', GATEWAY_BACKEND_URL: 'http://gpu:5000' } });
 */
export function loadGatewayConfig({ env = process.env }: { env?: Record<string, string | undefined> } = {}): GatewayConfig {
  const raw: Record<string, unknown> = env.GATEWAY_CONFIG ? readConfigFile(env.GATEWAY_CONFIG) : {};
  for (const [name, [path, parse]] of Object.entries(ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const keys = path.split('.');
    let node = raw;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys.at(-1)!] = parse(value);
  }
  const backend = raw.backend as Record<string, unknown> | undefined;
  if (backend) {
    const allowed = BACKEND_KEYS[String(backend.name ?? 'local')] ?? [];
    for (const [name, [path]] of Object.entries(ENV)) {
      const key = path.startsWith('backend.') ? path.slice(8) : undefined;
      if (key && key !== 'name' && env[name] !== undefined && !allowed.includes(key)) delete backend[key];
    }
    backend.name ??= 'local';
  }
  return parseGatewayConfig(raw);
}

/** The JSON object in the file `GATEWAY_CONFIG` names, or one line that says what is wrong with it. */
function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AigcError('CONFIG_INVALID', `gateway config file ${file} ${missing ? 'does not exist' : 'cannot be read'} (GATEWAY_CONFIG)`, {
      cause,
      details: String(cause),
    });
  }
  try {
    const tree = JSON.parse(text) as unknown;
    if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw new Error('expected a JSON object');
    return tree as Record<string, unknown>;
  } catch (cause) {
    throw new AigcError('CONFIG_INVALID', `gateway config file ${file} (GATEWAY_CONFIG) is not valid JSON: ${(cause as Error).message}`);
  }
}

/** The env var that sets `path`, if any. */
const envVarOf = (path: string) => Object.entries(ENV).find(([, [p]]) => p === path)?.[0];

/** Validates a config object (e.g. in tests or embedding code). */
export function parseGatewayConfig(input: GatewayConfigInput | Record<string, unknown>): GatewayConfig {
  const parsed = gatewayConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const path = i.path.join('.');
      const prefix = path ? `${path}.` : '';
      if (i.code === 'unrecognized_keys')
        return i.keys
          .map((key) => {
            const near = suggest(key, keysAt(gatewayConfigSchema, i.path));
            return `unknown setting ${prefix}${key}${near ? ` (did you mean ${prefix}${near}?)` : ''}`;
          })
          .join('; ');
      const envVar = envVarOf(path) ?? envVarOf(i.path.filter((p) => typeof p === 'string').join('.'));
      return `${path || '(root)'}${envVar ? ` (${envVar})` : ''}: ${i.message}`;
    });
    throw new AigcError('CONFIG_INVALID', `invalid gateway config: ${lines.join('; ')}`);
  }
  return parsed.data;
}
