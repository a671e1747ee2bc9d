/**
 * The browser entry of the client (the `browser` condition of `aigc-nft` and `aigc-nft/sdk`): the same exports as
 * `./index`, with no Node.js built-ins anywhere in its import graph. `verifyToken` needs Node's crypto and the
 * attestation libraries, so here it rejects and says where to run it.
 */
import { type AigcClient, buildClient } from './create-client';
import { AigcError } from '../errors';
import type { ClientConfig } from './types';

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
  return buildClient(config, async () => {
    throw new AigcError(
      'CONFIG_INVALID',
      'verifyToken runs in Node.js only (it checks hashes and attestations with Node libraries): call it from a server or script, or run `aigc verify <tokenId>`',
    );
  });
}
