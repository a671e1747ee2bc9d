import { collectionReads } from '../chain/typed-reads';
import { AigcError, errorMessage } from '../errors';
import { parseArUri } from '../storage/ids';
import type { TokenManifest } from '../storage/manifest';
import type { ClientContext } from './types';

export type GetTokenReturnType = {
  tokenId: bigint;
  owner: string;
  /** `ar://<manifest id>`. */
  tokenURI: string;
  /** The token's metadata (ERC-721 JSON with the `aigc` provenance block), from the Arweave gateway. */
  manifest: TokenManifest;
  /** The image over HTTP, from the client's Arweave gateway. */
  imageUrl: string;
};

/** `ar://<id>` as a URL of the gateway; other URIs as they are. */
export function gatewayUrl(arweaveUrl: string, uri: string): string {
  return uri.startsWith('ar://') ? `${arweaveUrl.replace(/\/+$/, '')}/${parseArUri(uri)}` : uri;
}

/**
 * A minted token: its owner, tokenURI, manifest (fetched from `arweaveUrl`) and an HTTP URL of its image.
 * Throws `NOT_FOUND` for a token that does not exist (yet), `ARWEAVE_FAILED` when the manifest cannot be fetched.
 *
 * @example
 * const { owner, manifest, imageUrl } = await client.getToken(1n);
 * console.log(`${manifest.name} owned by ${owner}: ${imageUrl}`);
 */
export async function getToken(ctx: ClientContext, tokenId: bigint): Promise<GetTokenReturnType> {
  const reads = collectionReads(ctx.contract);
  let owner: string;
  let tokenURI: string;
  try {
    [owner, tokenURI] = await Promise.all([reads.ownerOf(tokenId), reads.tokenURI(tokenId)]);
  } catch (cause) {
    throw new AigcError('NOT_FOUND', `token ${tokenId} does not exist on ${ctx.collection} (not minted yet?)`, { cause });
  }
  const url = gatewayUrl(ctx.arweaveUrl, tokenURI);
  let manifest: TokenManifest;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    manifest = (await res.json()) as TokenManifest;
  } catch (cause) {
    throw new AigcError('ARWEAVE_FAILED', `cannot fetch the manifest of token ${tokenId}: ${errorMessage(cause)}`, {
      cause,
      retryable: true,
    });
  }
  return { tokenId, owner, tokenURI, manifest, imageUrl: gatewayUrl(ctx.arweaveUrl, manifest.image) };
}
