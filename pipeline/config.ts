import fs from 'node:fs';
import { z } from 'zod';
import { keysAt, suggest } from '../protocol/suggest';
import { AigcError } from './errors';

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x followed by 64 hex digits');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address');
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const templateRef = z
  .string()
  .refine((t) => /^[a-z0-9-]+$/.test(t) || t.endsWith('.json'), 'a template name (lower-case, digits, -) or a path to a .json file');

/** How the node reads one chain (no defaults: also used for per-collection overrides). */
const chainFields = {
  rpcUrl: httpUrl,
  /** WebSocket endpoint: new blocks wake the listener before its next poll. */
  wsUrl: z.url({ protocol: /^wss?$/, error: 'expected a ws(s) URL' }),
  /** Blocks a request must be buried under before the node serves it. */
  confirmations: int(0, 10_000),
  pollIntervalMs: int(50, 600_000),
  /** Largest block range asked of eth_getLogs at once (providers cap it). */
  maxBlockRange: int(1, 1_000_000),
  /** First block to scan when no cursor is stored yet (the collection's deployment block). */
  startBlock: int(0),
  /** How often the leader re-reads open requests from the chain to repair lost or reorged work. */
  reconcileIntervalMs: int(1_000, 86_400_000),
  /**
   * Most `eth_getLogs` calls a second while reconciling (0 = no limit). Only a full scan (no low-water mark: first
   * start, wiped Redis) makes many; the pace keeps a provider that rate-limits them from refusing the node.
   */
  maxLogsPerSecond: int(0, 10_000),
};
const chainSchema = z.strictObject({
  rpcUrl: chainFields.rpcUrl.optional(),
  wsUrl: chainFields.wsUrl.optional(),
  confirmations: chainFields.confirmations.default(0),
  pollIntervalMs: chainFields.pollIntervalMs.default(1_000),
  maxBlockRange: chainFields.maxBlockRange.default(2_000),
  startBlock: chainFields.startBlock.default(0),
  reconcileIntervalMs: chainFields.reconcileIntervalMs.default(60_000),
  maxLogsPerSecond: chainFields.maxLogsPerSecond.default(10),
});
/** A list given as an array (file) or as comma-separated text (env var). */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  );

/**
 * Every setting of the node, with defaults that suit the embedded stack. Each has an env var (see `ENV_VARS`);
 * precedence is defaults < config file < environment < explicit overrides.
 */
const configSchema = z.strictObject({
  /** Where the node and the embedded stack keep their files (arlocal data, wallets, logs). */
  dataDir: z.string().min(1).default('.aigc'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  redis: z
    .strictObject({
      /** Redis for queues and the listener cursor. Unset: 127.0.0.1:6379, else a spawned redis-server. */
      url: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
      /** Key prefix, so several nodes or test runs can share one Redis. */
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
        .default('aigc'),
    })
    .prefault({}),
  chain: chainSchema.prefault({}),
  collection: z
    .strictObject({
      address: address.optional(),
      /** The template whose render settings the node applies: a name under templates/collections, or a path to a collection.json. */
      template: templateRef.default('open-prompt'),
    })
    .prefault({}),
  /**
   * More collections served by this node (config file only). Each may name its own chain settings, merged over
   * `chain`; `startBlock` is the collection's deployment block.
   */
  collections: z
    .array(
      z.strictObject({
        address,
        template: templateRef.default('open-prompt'),
        startBlock: int(0).optional(),
        chain: z.strictObject(chainFields).partial().optional(),
      }),
    )
    .default([]),
  signer: z
    .strictObject({
      /** Who holds the signing key and vouches for it: see pipeline/attest/. */
      attester: z.enum(['operator', 'tee', 'simulated']).default('operator'),
      /** operator: the key itself… */
      privateKey: hex32.optional(),
      /** …or an encrypted JSON keystore (geth / ethers / `cast wallet new`), with its password in a file or env. */
      keystorePath: z.string().min(1).optional(),
      keystorePasswordFile: z.string().min(1).optional(),
      /** tee: the configfs-tsm report directory of a confidential VM (TDX, SEV-SNP). */
      tsmPath: z.string().min(1).default('/sys/kernel/config/tsm/report'),
      /**
       * Receives the key's earnings on chain (`withdraw(signer)` pays it; anyone may call). Registered with the key by
       * the owner; needed for keys made anew at every start (tee, simulated). Absent: the key itself.
       */
      payee: address.optional(),
    })
    .superRefine((s, ctx) => {
      if (s.privateKey && s.keystorePath)
        ctx.addIssue({
          code: 'custom',
          path: ['keystorePath'],
          message: 'set either signer.privateKey (AIGC_SIGNER_KEY) or a keystore, not both',
        });
    })
    .prefault({}),
  /**
   * C2PA Content Credentials: the operator's ES256 certificate chain (PEM, leaf first) and the leaf's PKCS#8 key.
   * Required when a served collection's template has `credentials.c2pa` (the node refuses to start without them).
   */
  credentials: z
    .object({ certPath: z.string().min(1).optional(), keyPath: z.string().min(1).optional() })
    .refine((c) => !c.certPath === !c.keyPath, {
      message: 'set both credentials.certPath (AIGC_C2PA_CERT) and credentials.keyPath (AIGC_C2PA_KEY)',
    })
    .prefault({}),
  gateway: z
    .strictObject({
      url: httpUrl.optional(),
      apiKey: z.string().min(1).optional(),
      timeoutMs: int(1_000, 3_600_000).default(120_000),
    })
    .prefault({}),
  arweave: z
    .strictObject({
      url: httpUrl.optional(),
      /** Path of the JWK wallet that pays for uploads. */
      walletPath: z.string().min(1).optional(),
      /**
       * `transactions`: one Arweave transaction per image and per manifest. `bundle`: both as ANS-104 data items
       * signed by the node's signer key, published in bundles shared by concurrent requests (one transaction for many).
       */
      mode: z.enum(['transactions', 'bundle']).default('transactions'),
      /** Bundle mode: how long the first item waits for others while no bundle is uploading. */
      bundleWindowMs: int(0, 60_000).default(50),
      /** Bundle mode: largest bundle in bytes. */
      bundleMaxBytes: int(1_024, 1_073_741_824).default(8 * 1024 * 1024),
      bundleUploads: int(1, 16).default(1),
      /** Depth at which an upload counts as confirmed (its kept bytes are then let go); 0 = do not follow uploads. */
      confirmations: int(0, 1_000).default(10),
      /** How often pending uploads are checked. */
      confirmPollMs: int(100, 86_400_000).default(60_000),
      /** An upload the gateway still does not know after this long was dropped and is posted again. */
      dropAfterMs: int(1_000, 7 * 86_400_000).default(30 * 60_000),
    })
    .prefault({}),
  generate: z
    .strictObject({
      /** Renders in flight at once on this node (match the backend's capacity). */
      concurrency: int(1, 256).default(2),
      attempts: int(1, 100).default(3),
      backoffMs: int(0, 3_600_000).default(1_000),
    })
    .prefault({}),
  fulfill: z
    .strictObject({
      attempts: int(1, 100).default(5),
      backoffMs: int(0, 3_600_000).default(1_000),
      /** Most fulfilments per `fulfillBatch` transaction. */
      batchSize: int(1, 100).default(20),
      /** How long the first fulfilment waits for others when no batch is in flight (one in flight: they queue up). */
      batchWindowMs: int(0, 60_000).default(100),
      /** A transaction not mined after this long is replaced with higher fees. */
      stuckAfterMs: int(1_000, 3_600_000).default(30_000),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Port of /healthz, /readyz and /metrics; 0 picks a free port. */
      port: int(0, 65_535).default(9464),
      host: z.string().min(1).default('127.0.0.1'),
      enabled: z.stringbool().or(z.boolean()).default(true),
      /** Slow-loris guard: a client must have sent its request headers within this, or the connection is closed (408). */
      headersTimeoutMs: int(100, 600_000).default(10_000),
      /** The whole request (headers and body) within this. Only receiving it: event streams and answers are not bounded. */
      requestTimeoutMs: int(100, 3_600_000).default(30_000),
      /** An idle keep-alive connection is closed after this. */
      keepAliveTimeoutMs: int(100, 600_000).default(5_000),
    })
    .refine((h) => h.headersTimeoutMs <= h.requestTimeoutMs, {
      path: ['headersTimeoutMs'],
      message: 'must be at most http.requestTimeoutMs (AIGC_HTTP_REQUEST_TIMEOUT_MS): the headers are part of the request',
    })
    .prefault({}),
  api: z
    .strictObject({
      /**
       * Bearer keys accepted by `POST /v1/mints` (sponsored mints, paid by the signer key). None: that route is off.
       */
      keys: list(z.string().min(16, 'API keys must have at least 16 characters')).default([]),
      /** Origins allowed to read the API from a browser (the mint page); `*` for any. None: no CORS headers. */
      corsOrigins: list(
        z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'an origin such as https://mint.example.com (scheme and host, no path), or *'),
      ).default([]),
      /**
       * Sponsored mints per minute per API key (token bucket, per node process); 0 = no limit. Each one spends the
       * operator's gas, so a leaked or runaway key is capped; the default is far above what one site's users make.
       */
      ratePerMinute: int(0, 1_000_000).default(600),
      /** Sponsored mints one API key may make at once before `ratePerMinute` applies. */
      burst: int(1, 100_000).default(60),
    })
    .prefault({}),
  /** Lock TTL of the listener/writer leader election; a dead leader is replaced after this long. */
  leaderTtlMs: int(1_000, 600_000).default(10_000),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable → dotted setting path. */
const ENV_VARS = {
  AIGC_DATA_DIR: 'dataDir',
  LOG_LEVEL: 'logLevel',
  REDIS_URL: 'redis.url',
  AIGC_REDIS_PREFIX: 'redis.prefix',
  AIGC_RPC_URL: 'chain.rpcUrl',
  AIGC_WS_URL: 'chain.wsUrl',
  AIGC_CONFIRMATIONS: 'chain.confirmations',
  AIGC_POLL_INTERVAL_MS: 'chain.pollIntervalMs',
  AIGC_MAX_BLOCK_RANGE: 'chain.maxBlockRange',
  AIGC_START_BLOCK: 'chain.startBlock',
  AIGC_RECONCILE_INTERVAL_MS: 'chain.reconcileIntervalMs',
  AIGC_MAX_LOGS_PER_SECOND: 'chain.maxLogsPerSecond',
  AIGC_COLLECTION: 'collection.address',
  AIGC_TEMPLATE: 'collection.template',
  AIGC_ATTESTER: 'signer.attester',
  AIGC_SIGNER_KEY: 'signer.privateKey',
  AIGC_SIGNER_KEYSTORE: 'signer.keystorePath',
  AIGC_SIGNER_KEYSTORE_PASSWORD_FILE: 'signer.keystorePasswordFile',
  AIGC_TSM_PATH: 'signer.tsmPath',
  AIGC_SIGNER_PAYEE: 'signer.payee',
  AIGC_C2PA_CERT: 'credentials.certPath',
  AIGC_C2PA_KEY: 'credentials.keyPath',
  AIGC_GATEWAY_URL: 'gateway.url',
  AIGC_GATEWAY_API_KEY: 'gateway.apiKey',
  AIGC_GATEWAY_TIMEOUT_MS: 'gateway.timeoutMs',
  AIGC_ARWEAVE_URL: 'arweave.url',
  AIGC_ARWEAVE_WALLET: 'arweave.walletPath',
  AIGC_ARWEAVE_MODE: 'arweave.mode',
  AIGC_BUNDLE_WINDOW_MS: 'arweave.bundleWindowMs',
  AIGC_BUNDLE_MAX_BYTES: 'arweave.bundleMaxBytes',
  AIGC_BUNDLE_UPLOADS: 'arweave.bundleUploads',
  AIGC_ARWEAVE_CONFIRMATIONS: 'arweave.confirmations',
  AIGC_ARWEAVE_CONFIRM_POLL_MS: 'arweave.confirmPollMs',
  AIGC_ARWEAVE_DROP_AFTER_MS: 'arweave.dropAfterMs',
  AIGC_GENERATE_CONCURRENCY: 'generate.concurrency',
  AIGC_GENERATE_ATTEMPTS: 'generate.attempts',
  AIGC_FULFILL_ATTEMPTS: 'fulfill.attempts',
  AIGC_BATCH_SIZE: 'fulfill.batchSize',
  AIGC_BATCH_WINDOW_MS: 'fulfill.batchWindowMs',
  AIGC_STUCK_AFTER_MS: 'fulfill.stuckAfterMs',
  AIGC_HTTP_PORT: 'http.port',
  AIGC_HTTP_HOST: 'http.host',
  AIGC_HTTP_ENABLED: 'http.enabled',
  AIGC_HTTP_HEADERS_TIMEOUT_MS: 'http.headersTimeoutMs',
  AIGC_HTTP_REQUEST_TIMEOUT_MS: 'http.requestTimeoutMs',
  AIGC_HTTP_KEEP_ALIVE_TIMEOUT_MS: 'http.keepAliveTimeoutMs',
  AIGC_LEADER_TTL_MS: 'leaderTtlMs',
  AIGC_API_KEYS: 'api.keys',
  AIGC_CORS_ORIGINS: 'api.corsOrigins',
  AIGC_API_RATE_PER_MINUTE: 'api.ratePerMinute',
  AIGC_API_BURST: 'api.burst',
} as const satisfies Record<string, string>;

const envVarOf = (path: string) => Object.entries(ENV_VARS).find(([, p]) => p === path)?.[0];

export type Tree = { [key: string]: unknown };

function setPath(target: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

/** Deep-merges settings objects; `over` wins, undefined values are skipped. */
export function mergeConfig(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    const bothObjects = [prev, value].every((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
    out[key] = bothObjects ? mergeConfig(prev as Tree, value as Tree) : value;
  }
  return out;
}

export type LoadConfigParameters = {
  /** A JSON config file; its keys mirror the schema. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigInput;
};

/**
 * Reads defaults < file < env < overrides into one validated config; a bad value names the setting, its env
 * var and what is expected.
 *
 * @example
 * const config = loadConfig({ file: 'aigc.config.json' });
 */
export function loadConfig({ file, env = process.env, overrides = {} }: LoadConfigParameters = {}): Config {
  const fromFile: Tree = file ? readConfigFile(file) : {};
  const fromEnv: Tree = {};
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(fromEnv, path, value);
  }
  const parsed = configSchema.safeParse(mergeConfig(mergeConfig(fromFile, fromEnv), overrides as Tree));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') return unknownKeys(path, issue.keys, keysAt(configSchema, issue.path), file);
      // A list item (api.keys.0) is set through its list's env var.
      const envVar = envVarOf(path) ?? envVarOf(issue.path.filter((p) => typeof p === 'string').join('.'));
      return `${path}${envVar ? ` (${envVar})` : ''}: ${issue.message}`;
    });
    throw new AigcError('CONFIG_INVALID', `invalid configuration: ${lines.join('; ')}`);
  }
  return parsed.data;
}

/** A config file's JSON, or one line that says what is wrong with it. */
function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : 'cannot be read';
    throw new AigcError('CONFIG_INVALID', `config file ${file} ${why}: write one with \`aigc init-node <dir>\` or fix --config`, {
      cause,
      details: String(cause),
    });
  }
  try {
    const tree = JSON.parse(text) as unknown;
    if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw new Error('expected a JSON object');
    return withoutComments(tree) as Tree;
  } catch (cause) {
    throw new AigcError('CONFIG_INVALID', `config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** JSON has no comments: a config file's keys that start with `//` are comments, dropped at every level. */
function withoutComments(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutComments);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.startsWith('//'))
      .map(([key, v]) => [key, withoutComments(v)]),
  );
}

/** `unknown setting colection (did you mean collection?)`, for each key the schema does not know at `path`. */
function unknownKeys(path: string, keys: string[], known: string[], file?: string): string {
  const prefix = path ? `${path}.` : '';
  const where = file ? ` in ${file}` : '';
  return keys
    .map((key) => {
      const near = suggest(key, known);
      return `unknown setting ${prefix}${key}${where}${near ? ` (did you mean ${prefix}${near}?)` : ''}`;
    })
    .join('; ');
}

/** Settings a node cannot start without, as `path (ENV_VAR)`, all at once (a node with a listener needs them all). */
export function missingSettings(config: Config): string[] {
  const missing: string[] = [];
  const need = (value: unknown, path: string) => {
    if (value === undefined) missing.push(`${path}${envVarOf(path) ? ` (${envVarOf(path)})` : ''}`);
  };
  need(config.redis.url, 'redis.url');
  if (!config.collections.length) need(config.collection.address, 'collection.address');
  if (config.collection.address || !config.collections.length || config.collections.some((c) => !c.chain?.rpcUrl))
    need(config.chain.rpcUrl, 'chain.rpcUrl');
  if (config.signer.attester === 'operator' && !config.signer.keystorePath) need(config.signer.privateKey, 'signer.privateKey');
  need(config.gateway.url, 'gateway.url');
  need(config.arweave.url, 'arweave.url');
  need(config.arweave.walletPath, 'arweave.walletPath');
  return missing;
}

/** Throws one error naming every missing setting (see {@link missingSettings}). */
export function assertComplete(config: Config): void {
  const missing = missingSettings(config);
  if (missing.length)
    throw new AigcError(
      'CONFIG_INVALID',
      `missing setting${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: set ${missing.length > 1 ? 'them' : 'it'} in the config file or the environment`,
    );
}

/** Returns the value of a setting the caller cannot run without, or a clear error naming its env var. */
export function requireSetting<T>(value: T | undefined, path: string): T {
  if (value === undefined) {
    const envVar = envVarOf(path);
    throw new AigcError('CONFIG_INVALID', `missing setting ${path}${envVar ? `: set ${envVar}` : ''}`);
  }
  return value;
}

export type ChainSettings = Config['chain'];

/** One collection the node serves, with the chain settings that apply to it. */
export type CollectionTarget = { address: string; template: string; chain: ChainSettings & { rpcUrl: string } };

/**
 * The collections this node serves: `collection.address` (with `chain`) first, then each `collections` entry
 * with its chain settings merged over `chain`. A collection listed twice on one RPC URL is an error.
 */
export function resolveCollections(config: Config): CollectionTarget[] {
  const targets: CollectionTarget[] = [];
  if (config.collection.address) {
    targets.push({
      address: config.collection.address,
      template: config.collection.template,
      chain: { ...config.chain, rpcUrl: requireSetting(config.chain.rpcUrl, 'chain.rpcUrl') },
    });
  }
  config.collections.forEach((entry, i) => {
    const chain = { ...config.chain, ...entry.chain, ...(entry.startBlock !== undefined ? { startBlock: entry.startBlock } : {}) };
    if (!chain.rpcUrl)
      throw new AigcError(
        'CONFIG_INVALID',
        `collections.${i}: no RPC URL: set collections.${i}.chain.rpcUrl or chain.rpcUrl (AIGC_RPC_URL)`,
      );
    targets.push({ address: entry.address, template: entry.template, chain: { ...chain, rpcUrl: chain.rpcUrl } });
  });
  if (!targets.length)
    throw new AigcError(
      'CONFIG_INVALID',
      'missing setting collection.address: set AIGC_COLLECTION (or list collections in the config file)',
    );
  const seen = new Set<string>();
  for (const t of targets) {
    const key = `${t.chain.rpcUrl} ${t.address.toLowerCase()}`;
    if (seen.has(key)) throw new AigcError('CONFIG_INVALID', `collection ${t.address} is configured twice for ${t.chain.rpcUrl}`);
    seen.add(key);
  }
  return targets;
}
