import type { Signer } from 'ethers';
import { connectCollection, deployFactory, deployFromTemplate } from '../chain/collection';
import { type Config, loadConfig } from '../config';
import { createArweaveStore, loadWallet } from '../storage/arweave';
import { uploadCollectionManifest } from '../storage/collection-manifest';
import type { CollectionTemplate } from '../template';
import type { EmbeddedStack } from './stack';

export type LocalCollection = { address: string; blockNumber: number; factory: string; contractURI: string };

/**
 * Deploys `template` on the embedded stack the way a production deploy does: the collection manifest (ERC-7572) to
 * arlocal first, then the collection through `factory` (deployed first when not given), `operator` as its signer.
 */
export async function deployLocalCollection({
  stack,
  template,
  deployer,
  operator,
  factory,
}: {
  stack: EmbeddedStack;
  template: CollectionTemplate;
  deployer: Signer;
  operator: string;
  factory?: string;
}): Promise<LocalCollection> {
  const store = await createArweaveStore({ url: stack.arlocal.url, jwk: await loadWallet(stack.arweaveWalletPath) });
  const owner = await deployer.getAddress();
  const contractManifest = await uploadCollectionManifest(store, template, template.royalty?.receiver ?? owner);
  const factoryAddress = factory ?? (await deployFactory(deployer)).factory;
  const deployed = await deployFromTemplate({ deployer, template, operator, factory: factoryAddress, contractManifest });
  const contractURI = (await connectCollection(deployed.address, deployer).contractURI()) as string;
  return { address: deployed.address, blockNumber: deployed.blockNumber, factory: factoryAddress, contractURI };
}

/** The node's settings for a collection on the embedded stack: its own Redis prefix, the operator key, an HTTP port. */
export function localNodeConfig({
  stack,
  dataDir,
  prefix,
  collection,
  operatorKey,
  httpPort = 0,
  corsOrigins = [],
  logLevel = 'info',
}: {
  stack: EmbeddedStack;
  dataDir: string;
  prefix: string;
  collection: Pick<LocalCollection, 'address' | 'blockNumber'>;
  operatorKey: string;
  httpPort?: number;
  corsOrigins?: string[];
  logLevel?: Config['logLevel'];
}): Config {
  return loadConfig({
    env: {},
    overrides: {
      dataDir,
      logLevel,
      redis: { url: stack.redis.url, prefix },
      chain: { rpcUrl: stack.anvil.rpcUrl, pollIntervalMs: 200, startBlock: collection.blockNumber },
      collection: { address: collection.address },
      signer: { attester: 'operator', privateKey: operatorKey },
      gateway: { url: stack.gatewayUrl },
      credentials: { certPath: stack.c2pa.certPath, keyPath: stack.c2pa.keyPath },
      arweave: { url: stack.arlocal.url, walletPath: stack.arweaveWalletPath },
      http: { port: httpPort },
      api: { corsOrigins },
    },
  });
}
