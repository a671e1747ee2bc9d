import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AigcError, type ErrorCode } from '../errors';
import { bodyProblem } from '../../protocol/body-problem';

/** An error an API route answers with; `fields` names each bad input and what to fix. */
export type ApiError = AigcError & { fields?: Record<string, string> };

/** HTTP status per error code: the one place the node's API maps codes to statuses. Others answer 500. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  API_DISABLED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  REDIS_UNAVAILABLE: 503,
  CHAIN_FAILED: 503,
};

/**
 * An API error with its code, a one-line message saying what to fix, and optionally each bad field, and when to try
 * again (answered as Retry-After, in whole seconds).
 *
 * @example
 * throw apiError('INVALID_REQUEST', 'invalid mint request', { fields: { to: 'expected a 0x-prefixed 20-byte address' } });
 */
export function apiError(
  code: ErrorCode,
  message: string,
  { fields, retryable, retryAfterMs }: { fields?: Record<string, string>; retryable?: boolean; retryAfterMs?: number } = {},
): ApiError {
  return Object.assign(new AigcError(code, message, { retryable, retryAfterMs }), { fields });
}

/** Zod issues → `{ field: message }`, unknown keys named one by one. */
export function fieldErrors(
  issues: readonly { code: string; path: PropertyKey[]; message: string; keys?: string[] }[],
  root = 'body',
): Record<string, string> {
  return Object.fromEntries(
    issues.flatMap((i) =>
      i.code === 'unrecognized_keys' && i.keys ? i.keys.map((k) => [k, 'unknown field']) : [[i.path.join('.') || root, i.message]],
    ),
  );
}

/**
 * Express error handler answering `{ error: { code, message, retryable, fields? } }` (the gateway's shape), with
 * Retry-After when the error says when to try again.
 * Unexpected errors are logged and answered 500 without their details.
 *
 * @example
 * router.use(apiErrorHandler(logger));
 */
export function apiErrorHandler(logger: Logger) {
  // Express recognises an error handler by its four parameters.
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    let e: ApiError;
    if (error instanceof AigcError) e = error;
    else if ((error as { status?: number }).status && (error as { status: number }).status < 500) {
      // body-parser: malformed JSON, body too large, wrong content type. `fields.body` names it, as for any bad field.
      e = apiError('INVALID_REQUEST', `invalid request body: ${(error as Error).message}`, { fields: { body: bodyProblem(error) } });
    } else {
      logger.error({ err: error instanceof Error ? error.stack : String(error), path: req.path }, 'API: unexpected error');
      e = apiError('INTERNAL', 'internal error; see the node logs', { retryable: true });
    }
    const status = STATUS[e.code] ?? 500;
    if (e.retryAfterMs !== undefined) res.set('retry-after', String(Math.max(1, Math.ceil(e.retryAfterMs / 1_000))));
    if (status >= 500 && e.code !== 'INTERNAL') logger.warn({ code: e.code, err: e.message, path: req.path }, 'API: request failed');
    res.status(status).json({ error: { code: e.code, message: e.shortMessage, retryable: e.retryable, fields: e.fields } });
  };
}
