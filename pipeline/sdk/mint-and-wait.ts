import type { MintRequest } from '../chain/request';
import { type RequestMintParameters, requestMint } from './request-mint';
import type { ClientContext } from './types';
import { type WaitForMintParameters, type WaitForMintReturnType, waitForMint } from './wait-for-mint';

export type MintAndWaitParameters = RequestMintParameters & Pick<WaitForMintParameters, 'timeoutMs' | 'onStatus' | 'pollIntervalMs'>;

export type MintAndWaitReturnType = WaitForMintReturnType & {
  request: MintRequest;
  /** Hash of the request's transaction (`txHash` is the fulfilment's). */
  requestTxHash: string;
};

/**
 * `requestMint`, then `waitForMint` for that request: pays, and resolves once the token exists. Rejects like the two.
 *
 * @example
 * const { tokenId, tokenURI } = await client.mintAndWait({ prompt: 'a lighthouse at dawn', timeoutMs: 180_000 });
 */
export async function mintAndWait(ctx: ClientContext, { prompt, to, ...wait }: MintAndWaitParameters): Promise<MintAndWaitReturnType> {
  const { request, txHash } = await requestMint(ctx, { prompt, to });
  const minted = await waitForMint(ctx, { ...wait, requestId: request.requestId, fromBlock: request.blockNumber });
  return { ...minted, request, requestTxHash: txHash };
}
