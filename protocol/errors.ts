/**
 * One error type for the whole project. `code` is stable and machine-readable (the CLI maps it to an exit code,
 * HTTP routes to a status); `shortMessage` is the one line a user sees; `details` and `cause` go to logs.
 *
 * @example
 * throw new AigcError('CONFIG_INVALID', 'chain.rpcUrl must be an http(s) URL', { details: 'got "foo"' });
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'TEMPLATE_INVALID'
  | 'REDIS_UNAVAILABLE'
  | 'ANVIL_UNAVAILABLE'
  | 'ARWEAVE_FAILED'
  | 'GATEWAY_FAILED'
  | 'CHAIN_FAILED'
  | 'CHAIN_UNSUPPORTED'
  | 'EVENT_INVALID'
  | 'VERIFY_FAILED'
  | 'ATTESTATION_FAILED'
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'CONTENT_REJECTED'
  | 'RATE_LIMITED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'API_DISABLED'
  | 'INSUFFICIENT_FUNDS'
  | 'INTERNAL'
  | 'BACKEND_BUSY'
  | 'BACKEND_TIMEOUT'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_FAILED'
  | 'TIMEOUT'
  /** This process does not hold (or can no longer prove it holds) the writer lease; another node may. */
  | 'NOT_LEADER';

export type AigcErrorOptions = {
  details?: string;
  cause?: unknown;
  retryable?: boolean;
  /** How long the other side asked us to wait before trying again (its Retry-After). */
  retryAfterMs?: number;
};

export class AigcError extends Error {
  override readonly name = 'AigcError';
  readonly code: ErrorCode;
  readonly shortMessage: string;
  readonly details?: string;
  /** Whether trying again later may succeed (network, busy backend) as opposed to a permanent refusal. */
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, shortMessage: string, options: AigcErrorOptions = {}) {
    super(options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage, { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The message of any thrown value, for logs. */
export function errorMessage(error: unknown): string {
  if (error instanceof AigcError) return error.shortMessage;
  if (error instanceof Error) return error.message;
  return String(error);
}
