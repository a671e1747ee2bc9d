import path from 'node:path';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { createDevelopmentCredentials } from '../credentials/dev-ca';
import { arweaveClient, loadWallet } from '../storage/arweave';
import { type Anvil, startAnvil } from './anvil';
import { type ArlocalHandle, startArlocal } from './arlocal';
import { startEmbeddedGateway } from './gateway';
import { ensureRedis, type RedisHandle } from './redis';

export type EmbeddedStack = {
  anvil: Anvil;
  arlocal: ArlocalHandle;
  redis: RedisHandle;
  gatewayUrl: string;
  /** A funded arlocal wallet for the node's uploads. */
  arweaveWalletPath: string;
  /** Development C2PA signing credentials (a local CA and leaf marked DEVELOPMENT ONLY) in the data dir. */
  c2pa: { certPath: string; keyPath: string; caPath: string };
  stop(): Promise<void>;
};

export type StartEmbeddedStackParameters = {
  dataDir: string;
  /** An existing Redis; else 127.0.0.1:6379 if one answers there, then a spawned redis-server (see `ensureRedis`). */
  redisUrl?: string;
  /** Funded anvil accounts. @defaultValue 10 */
  accounts?: number;
  /** The gateway's backend. @defaultValue the deterministic `local` renderer */
  backend?: DiffusionBackend;
  /** Called as each part comes up, for progress output. */
  onProgress?: (part: string, ms: number) => void;
};

/**
 * Everything the node needs, on this machine, with no accounts: anvil, arlocal (in-process, mining every
 * second), Redis and the diffusion gateway with the `local` backend. `stop()` ends all of it, in reverse order.
 */
export async function startEmbeddedStack({
  dataDir,
  redisUrl,
  backend = createLocalBackend(),
  accounts,
  onProgress = () => {},
}: StartEmbeddedStackParameters): Promise<EmbeddedStack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  const timed = async <T>(part: string, start: () => Promise<T>) => {
    const t = performance.now();
    const value = await start();
    onProgress(part, performance.now() - t);
    return value;
  };
  try {
    const redis = await timed('redis', () => ensureRedis({ url: redisUrl }));
    stops.push(redis.stop);
    const anvil = await timed('anvil', () => startAnvil({ accounts }));
    stops.push(anvil.stop);
    const arlocal = await timed('arlocal', () => startArlocal({ dbPath: path.join(dataDir, 'arlocal') }));
    stops.push(arlocal.stop);

    const arweaveWalletPath = path.join(dataDir, 'arweave-wallet.json');
    const jwk = await loadWallet(arweaveWalletPath, { create: true });
    const address = await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk);
    await fetch(`${arlocal.url}/mint/${address}/1000000000000000`); // 1,000 AR of test tokens

    const gateway = await timed('gateway', () => startEmbeddedGateway({ backend }));
    stops.push(gateway.stop);
    const { certPath, keyPath, caPath } = await createDevelopmentCredentials({ dir: path.join(dataDir, 'credentials') });
    return { anvil, arlocal, redis, gatewayUrl: gateway.url, arweaveWalletPath, c2pa: { certPath, keyPath, caPath }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
