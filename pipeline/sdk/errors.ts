import { type ErrorDescription, isError } from 'ethers';
import { collectionInterface } from '../chain/collection';
import { AigcError, type ErrorCode, errorMessage } from '../errors';

/** How a request ended without a token, when `waitForMint` rejects. */
export type MintOutcome = 'rejected' | 'refunded' | 'timeout';

/**
 * A request that ended without a token (`rejected` by the operator, `refunded` after its deadline) or was not minted
 * within `timeoutMs` (`timeout`). `code` says why in the project's terms; `outcome` says which of the three it was.
 */
export class MintFailedError extends AigcError {
  readonly outcome: MintOutcome;
  readonly requestId: bigint;
  /** The operator's reason: from the node when it gives one, else the contract's reason code in words. */
  readonly reason?: string;

  constructor(
    code: ErrorCode,
    message: string,
    { outcome, requestId, reason }: { outcome: MintOutcome; requestId: bigint; reason?: string },
  ) {
    super(code, message, { retryable: outcome === 'timeout' });
    this.outcome = outcome;
    this.requestId = requestId;
    this.reason = reason;
  }
}

/** Plain-English reasons of the contract's refusals of `requestMint`. */
const REFUSALS: Record<string, { code: ErrorCode; reason: (args: readonly unknown[]) => string }> = {
  AIGCPaused: { code: 'CONFLICT', reason: () => 'minting is paused by the collection owner' },
  AIGCSoldOut: { code: 'CONFLICT', reason: ([max]) => `the collection is sold out (all ${max} tokens requested)` },
  AIGCMintNotOpen: { code: 'CONFLICT', reason: ([at]) => `minting has not opened yet (opens at ${isoTime(at)})` },
  AIGCMintClosed: { code: 'CONFLICT', reason: ([at]) => `minting has closed (closed at ${isoTime(at)})` },
  AIGCPromptLength: {
    code: 'INVALID_REQUEST',
    reason: ([len, max]) => `the prompt is ${len} bytes; it must be between 1 and ${max} bytes`,
  },
  AIGCWalletLimit: { code: 'CONFLICT', reason: ([account, limit]) => `${account} has reached the wallet limit of ${limit} mints` },
  AIGCWrongPayment: { code: 'INVALID_REQUEST', reason: ([sent, price]) => `paid ${sent} wei but the price is ${price} wei` },
  AIGCInvalidRecipient: { code: 'INVALID_REQUEST', reason: () => 'the recipient is not a valid address' },
};

const isoTime = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString();

/** The contract's custom error in a thrown ethers error (a reverted estimate, call or transaction), if any. */
export function revertOf(error: unknown): ErrorDescription | undefined {
  if (!isError(error, 'CALL_EXCEPTION')) return undefined;
  if (error.data) {
    try {
      return collectionInterface.parseError(error.data) ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * One `AigcError` for a failed `requestMint`: the contract's refusal by name with its reason in words
 * (`AIGCPaused: minting is paused by the collection owner`), else `CHAIN_FAILED` with the provider's message.
 */
export function mintRequestError(error: unknown): AigcError {
  if (error instanceof AigcError) return error;
  const revert = revertOf(error);
  if (revert) {
    const known = REFUSALS[revert.name];
    const reason = known ? known.reason(revert.args) : 'the collection refused the request';
    return new AigcError(known?.code ?? 'CHAIN_FAILED', `requestMint refused: ${revert.name}: ${reason}`, { cause: error });
  }
  if (isError(error, 'INSUFFICIENT_FUNDS'))
    return new AigcError('INSUFFICIENT_FUNDS', 'requestMint failed: the wallet cannot pay the price and gas', { cause: error });
  return new AigcError('CHAIN_FAILED', `requestMint failed: ${errorMessage(error)}`, { cause: error, retryable: true });
}
