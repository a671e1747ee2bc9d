import { AigcError } from '../../protocol/errors';
import { ERROR_HTTP, type GatewayErrorCode } from '../../protocol/gateway';

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
