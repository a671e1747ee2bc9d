import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Contract, type EventLog, type JsonRpcProvider, Wallet } from 'ethers';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { connectCollection, deployFromTemplate } from '../../pipeline/chain/collection';
import { createProvider } from '../../pipeline/chain/provider';
import type { MintRequest } from '../../pipeline/chain/request';
import { type Config, type ConfigInput, loadConfig, mergeConfig, type Tree } from '../../pipeline/config';
import { type RedisHandle, spawnRedisServer } from '../../pipeline/embedded/redis';
import { type EmbeddedStack, startEmbeddedStack } from '../../pipeline/embedded/stack';
import { type CollectionTemplate, loadTemplate } from '../../pipeline/template';
import { requestMints } from './mint';

// The default template without moderation: these fixtures test the pipeline, and the classifier scores about one in a
// hundred of the procedural renderer's abstract images above its default porn threshold (0.7), which would end a
// request in a refund where a test counts mints. Moderation has its own tests (moderation*.test.ts).
const { moderation: _moderation, ...openPrompt } = loadTemplate('open-prompt');
export const template: CollectionTemplate = openPrompt;
export { PRICE } from './mint';

/** anvil + arlocal + gateway + a private redis-server + a collection deployed from `template` (open-prompt by default), for node tests. */
export type NodeFixture = {
  stack: EmbeddedStack;
  redis: RedisHandle;
  provider: JsonRpcProvider;
  collection: Contract;
  deployBlock: number;
  dataDir: string;
  /** Node settings for this fixture, with `override` merged in. */
  config(override?: ConfigInput): Config;
  /** Env vars equivalent to `config()`, for a node run as a separate process. */
  env(): Record<string, string>;
  stop(): Promise<void>;
};

export async function startNodeFixture({
  backend,
  accounts,
  template: collectionTemplate = template,
}: { backend?: DiffusionBackend; accounts?: number; template?: CollectionTemplate } = {}): Promise<NodeFixture> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-node-'));
  const redis = await spawnRedisServer();
  const stack = await startEmbeddedStack({ dataDir, redisUrl: redis.url, backend, accounts });
  const provider = createProvider(stack.anvil.rpcUrl, 100);
  const deployer = new Wallet(stack.anvil.privateKeys[0], provider);
  const operator = new Wallet(stack.anvil.privateKeys[1]);
  const deployed = await deployFromTemplate({ deployer, template: collectionTemplate, operator: operator.address });
  // Nodes started from settings alone (child processes) read the same template from a file.
  const templatePath = path.join(dataDir, 'collection.json');
  fs.writeFileSync(templatePath, JSON.stringify(collectionTemplate));
  const base: ConfigInput = {
    dataDir,
    logLevel: 'silent',
    redis: { url: redis.url, prefix: 'aigc' },
    chain: { rpcUrl: stack.anvil.rpcUrl, pollIntervalMs: 100, startBlock: deployed.blockNumber },
    collection: { address: deployed.address, template: templatePath },
    signer: { privateKey: stack.anvil.privateKeys[1] },
    gateway: { url: stack.gatewayUrl },
    credentials: { certPath: stack.c2pa.certPath, keyPath: stack.c2pa.keyPath },
    arweave: { url: stack.arlocal.url, walletPath: stack.arweaveWalletPath },
    generate: { backoffMs: 100 },
    fulfill: { backoffMs: 100 },
    http: { port: 0 },
    leaderTtlMs: 1_500,
  };
  return {
    stack,
    redis,
    provider,
    collection: connectCollection(deployed.address, provider),
    deployBlock: deployed.blockNumber,
    dataDir,
    config: (override = {}) => loadConfig({ env: {}, overrides: mergeConfig(base as Tree, override as Tree) as ConfigInput }),
    env: () => ({
      LOG_LEVEL: 'info',
      AIGC_DATA_DIR: dataDir,
      REDIS_URL: redis.url,
      AIGC_RPC_URL: stack.anvil.rpcUrl,
      AIGC_POLL_INTERVAL_MS: '100',
      AIGC_START_BLOCK: String(deployed.blockNumber),
      AIGC_COLLECTION: deployed.address,
      AIGC_TEMPLATE: templatePath,
      AIGC_SIGNER_KEY: stack.anvil.privateKeys[1],
      AIGC_GATEWAY_URL: stack.gatewayUrl,
      AIGC_C2PA_CERT: stack.c2pa.certPath,
      AIGC_C2PA_KEY: stack.c2pa.keyPath,
      AIGC_ARWEAVE_URL: stack.arlocal.url,
      AIGC_ARWEAVE_WALLET: stack.arweaveWalletPath,
      AIGC_HTTP_PORT: '0',
      AIGC_LEADER_TTL_MS: '1500',
    }),
    async stop() {
      provider.destroy();
      await stack.stop();
      await redis.stop();
    },
  };
}

/** Sends one requestMint per prompt from accounts 2…, round robin (accounts in parallel), and returns the requests in the order of `prompts`. */
export const sendRequests = (f: NodeFixture, prompts: string[]): Promise<MintRequest[]> =>
  requestMints(f.collection, f.stack.anvil.privateKeys.slice(2), prompts);

/** All events `name` of the collection since deployment. */
export async function events(f: NodeFixture, name: string): Promise<EventLog[]> {
  return (await f.collection.queryFilter(f.collection.filters[name](), f.deployBlock)) as EventLog[];
}
