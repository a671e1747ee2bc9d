/**
 * The typed client of an AIGC collection (`import { createClient } from 'aigc-nft'`): `createClient`, its actions and
 * their types. This is the Node.js entry; bundlers targeting browsers get `./browser` instead (the package's
 * `browser` export condition), which has the same exports and a `verifyToken` that says it is Node.js-only.
 */
import { type AigcClient, buildClient } from './create-client';
import type { ClientConfig } from './types';
import { verifyToken } from './verify-token';

export * from './exports';

/**
 * A client of one AIGC collection, for sites, scripts and the CLI. It uses the provider and signer it is given as
 * they are (any ethers `Provider`; a `Wallet`, `NonceManager` or browser signer), and an operator node's HTTP API
 * when `nodeUrl` is set (status streams); everything else comes from the chain and the Arweave gateway.
 *
 * @example
 * const provider = new JsonRpcProvider('https://rpc.example.org');
 * const client = createClient({ collection: '0x…', provider, signer: new Wallet(key, provider), nodeUrl: 'https://node.example.org' });
 * const { tokenId } = await client.mintAndWait({ prompt: 'a lighthouse at dawn', timeoutMs: 180_000 });
 * const { manifest, imageUrl } = await client.getToken(tokenId);
 */
export function createClient(config: ClientConfig): AigcClient {
  return buildClient(config, verifyToken);
}
