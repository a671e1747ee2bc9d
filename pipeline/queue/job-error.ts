import { UnrecoverableError } from 'bullmq';
import { AigcError, type ErrorCode } from '../errors';

/**
 * A job failure that BullMQ must not retry, carrying the error code of its cause. BullMQ recognises
 * `UnrecoverableError` by class; the code travels with it so the `failed` handler can decide (reject and refund
 * for a refused render, leave for reconciliation otherwise) without casts.
 */
export class FinalJobError extends UnrecoverableError {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a stage throws for `error`: a non-retryable `AigcError` becomes a `FinalJobError` with its code (no further
 * attempts); anything else is thrown as it is, to be retried.
 */
export function toJobError(error: unknown): unknown {
  if (error instanceof AigcError && !error.retryable) return new FinalJobError(error.code, error.shortMessage);
  return error;
}

/** The error code of a failed job's error, if it has one. */
export function jobErrorCode(error: unknown): ErrorCode | undefined {
  if (error instanceof FinalJobError || error instanceof AigcError) return error.code;
  return undefined;
}
