import { getAddress, JsonRpcProvider } from 'ethers';
import { connectCollection } from '../chain/collection';
import { AigcError } from '../errors';
import { type GetTokenReturnType, getToken } from './get-token';
import { type MintAndWaitParameters, type MintAndWaitReturnType, mintAndWait } from './mint-and-wait';
import { type QuoteParameters, type QuoteReturnType, quote } from './quote';
import { type RequestMintParameters, type RequestMintReturnType, requestMint } from './request-mint';
import type { ClientConfig, ClientContext } from './types';
import type { VerifyTokenParameters, VerifyTokenReturnType } from './verify-token';
import { type WaitForMintParameters, type WaitForMintReturnType, waitForMint } from './wait-for-mint';

/** A collection client: every action bound to one collection, provider and signer. */
export type AigcClient = {
  readonly collection: string;
  readonly context: ClientContext;
  requestMint(parameters: RequestMintParameters): Promise<RequestMintReturnType>;
  waitForMint(parameters: WaitForMintParameters): Promise<WaitForMintReturnType>;
  mintAndWait(parameters: MintAndWaitParameters): Promise<MintAndWaitReturnType>;
  getToken(tokenId: bigint): Promise<GetTokenReturnType>;
  /** Node.js only (see `verifyToken`); in a browser bundle it rejects with `CONFIG_INVALID`. */
  verifyToken(tokenId: bigint, options?: { fromBlock?: number }): Promise<VerifyTokenReturnType>;
  quote(parameters?: QuoteParameters): Promise<QuoteReturnType>;
};

export type VerifyTokenAction = (ctx: ClientContext, parameters: VerifyTokenParameters) => Promise<VerifyTokenReturnType>;

/**
 * The client of `config`, with `verify` as its `verifyToken`: the entries (`./index` for Node.js, `./browser`) each
 * pass theirs, so a browser bundle never reaches the Node-only checks. See `createClient` of either entry.
 */
export function buildClient(config: ClientConfig, verify: VerifyTokenAction): AigcClient {
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
    verifyToken: (tokenId, options) => verify(context, { tokenId, ...options }),
    quote: (p) => quote(context, p),
  };
}
