import { isError } from 'ethers';
import { AigcError, type ErrorCode, errorMessage } from '../errors';
import { revertOf } from '../sdk/errors';

/** The contract's refusals of owner and operator actions, in words that say what to do. */
const REASONS: Record<string, { code: ErrorCode; reason: (args: readonly unknown[]) => string }> = {
  OwnableUnauthorizedAccount: {
    code: 'UNAUTHORIZED',
    reason: ([account]) => `${account} is not the owner of this collection: sign with the owner's key (--key env:NAME)`,
  },
  OwnableInvalidOwner: { code: 'INVALID_REQUEST', reason: () => 'the owner cannot be the zero address' },
  AIGCInvalidConfig: {
    code: 'INVALID_REQUEST',
    reason: () =>
      'the mint settings are invalid (max supply below the tokens minted or pending, end not after start, refund delay outside 60 s-30 days)',
  },
  AIGCInvalidRoyalty: {
    code: 'INVALID_REQUEST',
    reason: ([receiver, bps]) =>
      `royalty ${Number(bps) / 100} % to ${receiver} is invalid: at most 10 %, and a receiver only with a royalty`,
  },
  AIGCInvalidSigner: { code: 'INVALID_REQUEST', reason: () => 'the signer cannot be the zero address' },
  AIGCNothingToWithdraw: { code: 'CONFLICT', reason: ([signer]) => `signer ${signer} has no earnings to withdraw` },
  AIGCNothingToClaim: { code: 'CONFLICT', reason: ([account]) => `${account} has no credit to claim` },
  AIGCNotEnoughGas: { code: 'CHAIN_FAILED', reason: () => 'the transaction ran out of gas before paying out: send it with more gas' },
  AIGCAlreadyInitialized: { code: 'CONFLICT', reason: () => 'the collection is already initialised' },
};

/**
 * One `AigcError` for a chain action that failed: the contract's custom error by name with its meaning
 * (`set-price refused: OwnableUnauthorizedAccount: 0x… is not the owner…`), an unfunded key, or the provider's
 * first line.
 *
 * @example
 * try { await contract.pause(); } catch (error) { throw chainActionError('pause', error); }
 */
export function chainActionError(action: string, error: unknown): AigcError {
  if (error instanceof AigcError) return error;
  const revert = revertOf(error);
  if (revert) {
    const known = REASONS[revert.name];
    const reason = known ? known.reason(revert.args) : `(${revert.args.map(String).join(', ')})`;
    return new AigcError(known?.code ?? 'CHAIN_FAILED', `${action} refused: ${revert.name}${known ? ': ' : ''}${reason}`, { cause: error });
  }
  if (isError(error, 'INSUFFICIENT_FUNDS'))
    return new AigcError('INSUFFICIENT_FUNDS', `${action} failed: the key cannot pay the gas: fund it and try again`, { cause: error });
  if (isError(error, 'CALL_EXCEPTION')) return new AigcError('CHAIN_FAILED', `${action} reverted: ${error.shortMessage}`, { cause: error });
  return new AigcError('CHAIN_FAILED', `${action} failed: ${errorMessage(error).split('\n')[0]}`, { cause: error, retryable: true });
}
