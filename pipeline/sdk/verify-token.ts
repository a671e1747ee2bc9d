import type { JsonRpcProvider } from 'ethers';
import { AigcError, errorMessage } from '../errors';
import type { VerifyReport } from '../provenance/verify';
import { gatewayUrl } from './get-token';
import type { ClientContext } from './types';

export type VerifyTokenParameters = {
  tokenId: bigint;
  /** First block to search for the token's events (the collection's deployment block is fastest). @defaultValue 0 */
  fromBlock?: number;
};

export type VerifyTokenReturnType = VerifyReport;

/**
 * Checks a token from public data alone (chain events and state, the Arweave manifest and image, the signer's
 * attestation) and reports every check; `ok` is true only if all pass. **Node.js only**: the checks use Node's
 * crypto and attestation libraries (loaded when this action is first called, so the rest of the client stays
 * browser-compatible).
 *
 * @example
 * const report = await client.verifyToken({ tokenId: 1n });
 * if (!report.ok) console.log(report.checks.filter((c) => !c.ok));
 */
export async function verifyToken(ctx: ClientContext, { tokenId, fromBlock }: VerifyTokenParameters): Promise<VerifyTokenReturnType> {
  const { verifyToken: verify } = await import('../provenance/verify');
  const download = async (id: string) => {
    const url = gatewayUrl(ctx.arweaveUrl, `ar://${id}`);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (cause) {
      throw new AigcError('ARWEAVE_FAILED', `cannot fetch ${url}: ${errorMessage(cause)} (is the Arweave gateway right and up?)`, {
        cause,
        retryable: true,
      });
    }
    if (!res.ok) throw new AigcError('ARWEAVE_FAILED', `${url} answered ${res.status}`, { retryable: true });
    return new Uint8Array(await res.arrayBuffer());
  };
  // verify.ts reads through the generic Provider methods (calls, logs, getNetwork) only.
  return verify({ provider: ctx.provider as JsonRpcProvider, collection: ctx.collection, tokenId, download, fromBlock });
}
