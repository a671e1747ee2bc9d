import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Contract, type JsonRpcProvider, Wallet } from 'ethers';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { connectCollection, deployFromTemplate } from '../chain/collection';
import { createProvider } from '../chain/provider';
import { type Config, type ConfigInput, loadConfig, mergeConfig, type Tree } from '../config';
import type { CollectionTemplate } from '../template';
import { type RedisHandle, spawnRedisServer } from './redis';
import { type EmbeddedStack, startEmbeddedStack } from './stack';

/**
 * anvil + arlocal + gateway + a private redis-server + a collection deployed from a template, with the settings of a
 * node serving it: what the integration tests, the benchmarks and the load run start a node (or a node process) on.
 */
export type NodeFixture = {
  stack: EmbeddedStack;
  redis: RedisHandle;
  provider: JsonRpcProvider;
  collection: Contract;
  deployBlock: number;
  dataDir: string;
  /** Node settings for this fixture, with `override` merged in. */
  config(override?: ConfigInput): Config;
  /** Env vars equivalent to `config()`, for a node run as a separate process (`aigc node`). */
  env(): Record<string, string>;
  stop(): Promise<void>;
};

export type StartNodeFixtureParameters = {
  /** The collection's template; a node process reads it from `<dataDir>/collection.json`. */
  template: CollectionTemplate;
  /** The gateway's backend. @defaultValue the deterministic `local` renderer */
  backend?: DiffusionBackend;
  /** Funded anvil accounts: 0 deploys, 1 is the operator (signer), the rest are free for collectors. @defaultValue 10 */
  accounts?: number;
};

/** The embedded stack on `redis`, and `template` deployed on it by account 0 with account 1 as its operator. */
async function deployOnStack({
  dataDir,
  redis,
  template,
  backend,
  accounts,
}: StartNodeFixtureParameters & { dataDir: string; redis: RedisHandle }) {
  const stack = await startEmbeddedStack({ dataDir, redisUrl: redis.url, backend, accounts });
  const provider = createProvider(stack.anvil.rpcUrl, 100);
  try {
    const deployer = new Wallet(stack.anvil.privateKeys[0], provider);
    const operator = new Wallet(stack.anvil.privateKeys[1]);
    const deployed = await deployFromTemplate({ deployer, template, operator: operator.address });
    return { stack, provider, deployed };
  } catch (error) {
    provider.destroy();
    await stack.stop();
    throw error;
  }
}

/**
 * Starts the fixture in a new temporary data dir. Its node settings poll fast (100 ms) and hold the leader lease
 * 1.5 s, so a node that dies is replaced within seconds; Redis is private, so a test may wipe or stop it.
 *
 * @example
 * const f = await startNodeFixture({ template: loadTemplate('open-prompt') });
 * const node = await startNode({ config: f.config(), template });
 * await node.stop(); await f.stop();
 */
export async function startNodeFixture({ template, backend, accounts }: StartNodeFixtureParameters): Promise<NodeFixture> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-node-'));
  const redis = await spawnRedisServer();
  const { stack, provider, deployed } = await deployOnStack({ dataDir, redis, template, backend, accounts }).catch(async (error) => {
    await redis.stop();
    throw error;
  });
  // Nodes started from settings alone (child processes) read the same template from a file.
  const templatePath = path.join(dataDir, 'collection.json');
  fs.writeFileSync(templatePath, JSON.stringify(template));
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
