import { getAddress, JsonRpcProvider } from 'ethers';
import { connectCollection } from '../chain/collection';
import { AigcError } from '../errors';
import { type GetTokenReturnType, getToken } from './get-token';
import { type MintAndWaitParameters, type MintAndWaitReturnType, mintAndWait } from './mint-and-wait';
import { type QuoteParameters, type QuoteReturnType, quote } from './quote';
import { type RequestMintParameters, type RequestMintReturnType, requestMint } from './request-mint';
import type { ClientConfig, ClientContext } from './types';
import { type VerifyTokenReturnType, verifyToken } from './verify-token';
import { type WaitForMintParameters, type WaitForMintReturnType, waitForMint } from './wait-for-mint';

/** A collection client: every action bound to one collection, provider and signer. */
export type AigcClient = {
  readonly collection: string;
  readonly context: ClientContext;
  requestMint(parameters: RequestMintParameters): Promise<RequestMintReturnType>;
  waitForMint(parameters: WaitForMintParameters): Promise<WaitForMintReturnType>;
  mintAndWait(parameters: MintAndWaitParameters): Promise<MintAndWaitReturnType>;
  getToken(tokenId: bigint): Promise<GetTokenReturnType>;
  /** Node.js only (see `verifyToken`). */
  verifyToken(tokenId: bigint, options?: { fromBlock?: number }): Promise<VerifyTokenReturnType>;
  quote(parameters?: QuoteParameters): Promise<QuoteReturnType>;
};

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
  const provider = config.provider ?? (config.rpcUrl ? new JsonRpcProvider(config.rpcUrl) : config.signer?.provider);
  if (!provider) throw new AigcError('CONFIG_INVALID', 'createClient needs `provider`, `rpcUrl` or a signer connected to a provider');
  let collection: string;
  try {
    collection = getAddress(config.collection);
  } catch (cause) {
    throw new AigcError('CONFIG_INVALID', `collection must be an address, got "${config.collection}"`, { cause });
  }
  const context: ClientContext = {
    collection,
    provider,
    signer: config.signer,
    nodeUrl: config.nodeUrl,
    arweaveUrl: config.arweaveUrl ?? 'https://arweave.net',
    contract: connectCollection(collection, provider),
  };
  return {
    collection,
    context,
    requestMint: (p) => requestMint(context, p),
    waitForMint: (p) => waitForMint(context, p),
    mintAndWait: (p) => mintAndWait(context, p),
    getToken: (tokenId) => getToken(context, tokenId),
    verifyToken: (tokenId, options) => verifyToken(context, { tokenId, ...options }),
    quote: (p) => quote(context, p),
  };
}
