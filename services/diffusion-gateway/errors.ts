import { AigcError, type ErrorCode } from '../../protocol/errors';

/** The error codes a backend or the gateway answers with; the node retries the retryable ones. */
export type GatewayErrorCode = Extract<
  ErrorCode,
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'CONTENT_REJECTED'
  | 'BACKEND_BUSY'
  | 'BACKEND_TIMEOUT'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_FAILED'
>;

/** HTTP status and default retryability per code: the one place that maps error codes to HTTP. */
export const ERROR_HTTP: Record<GatewayErrorCode, { status: number; retryable: boolean }> = {
  INVALID_REQUEST: { status: 400, retryable: false },
  UNAUTHORIZED: { status: 401, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  CONTENT_REJECTED: { status: 422, retryable: false },
  RATE_LIMITED: { status: 429, retryable: true },
  BACKEND_FAILED: { status: 502, retryable: false },
  BACKEND_BUSY: { status: 503, retryable: true },
  BACKEND_UNAVAILABLE: { status: 503, retryable: true },
  BACKEND_TIMEOUT: { status: 504, retryable: true },
};

/**
 * A typed gateway error; `retryable` defaults per code (busy, timeout, unavailable: yes).
 *
 * @example
 * throw gatewayError({ code: 'BACKEND_BUSY', message: 'cog answered 409' });
 */
export function gatewayError({
  code,
  message,
  details,
  cause,
  retryable,
  retryAfterMs,
  fields,
}: {
  code: GatewayErrorCode;
  message: string;
  details?: string;
  cause?: unknown;
  retryable?: boolean;
  /** When trying again makes sense (sent to the client as Retry-After). */
  retryAfterMs?: number;
  fields?: Record<string, string>;
}): AigcError & { fields?: Record<string, string> } {
  const error = new AigcError(code, message, { details, cause, retryable: retryable ?? ERROR_HTTP[code].retryable, retryAfterMs });
  return Object.assign(error, { fields });
}

/** True for an AigcError whose code the gateway knows how to answer. */
export function isGatewayError(error: unknown): error is AigcError & { code: GatewayErrorCode; fields?: Record<string, string> } {
  return error instanceof AigcError && error.code in ERROR_HTTP;
}

/** The backend's own abort reason, so a client disconnect and a timeout are told apart. */
export function abortError(signal: AbortSignal, backend: string): AigcError {
  const reason = signal.reason as unknown;
  if (reason instanceof AigcError) return reason;
  return gatewayError({ code: 'BACKEND_TIMEOUT', message: `${backend}: request aborted`, cause: reason });
}
