import type { Contract, TransactionReceipt } from 'ethers';
import { AigcError } from '../errors';
import type { MintRequestJson } from './request';
import { requestStruct } from './request';

export type SendOutcome =
  | { status: 'sent'; receipt: TransactionReceipt }
  /** The request had already ended on chain (minted, rejected or refunded): nothing to do. */
  | { status: 'already-closed'; minted: boolean };

async function closedOutcome(contract: Contract, request: MintRequestJson): Promise<SendOutcome | undefined> {
  const pending = (await contract.isPending(request.requestId, requestStruct(request))) as boolean;
  if (pending) return undefined;
  const minted = await contract.ownerOf(request.requestId).then(
    () => true,
    () => false,
  );
  return { status: 'already-closed', minted };
}

async function send(label: string, contract: Contract, request: MintRequestJson, call: () => Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<SendOutcome> {
  const closed = await closedOutcome(contract, request);
  if (closed) return closed;
  try {
    const tx = await call();
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new Error('transaction reverted');
    return { status: 'sent', receipt };
  } catch (cause) {
    // Lost a race with another writer, or the request expired and was refunded meanwhile.
    const after = await closedOutcome(contract, request).catch(() => undefined);
    if (after) return after;
    throw new AigcError('CHAIN_FAILED', `${label} of request ${request.requestId} failed`, { cause, retryable: true, details: String(cause) });
  }
}

/**
 * Sends `fulfill` for one request and waits for its receipt. Idempotent: a request already ended on chain is
 * reported as such instead of failing.
 */
export function sendFulfill(
  contract: Contract,
  p: { request: MintRequestJson; manifestId: string; imageSha256: string; modelHash: string; signature: string },
): Promise<SendOutcome> {
  return send('fulfill', contract, p.request, () =>
    contract.fulfill({
      requestId: p.request.requestId,
      request: requestStruct(p.request),
      manifestId: p.manifestId,
      imageSha256: p.imageSha256,
      modelHash: p.modelHash,
      signature: p.signature,
    }),
  );
}

/** Sends `reject` (immediate refund) for one request. Idempotent like {@link sendFulfill}. */
export function sendReject(contract: Contract, p: { request: MintRequestJson; reason: number }): Promise<SendOutcome> {
  return send('reject', contract, p.request, () => contract.reject(p.request.requestId, requestStruct(p.request), p.reason));
}
