import type { NextFunction, Request, Response } from 'express';
import { createRateLimiter } from '../../protocol/rate-limit';
import type { KeyedLocals } from './auth';
import { apiError } from './errors';

/**
 * Middleware that limits each API key (after `requireApiKey`, which names it) to `perMinute` requests with bursts of
 * `burst`; over it: 429 RATE_LIMITED with Retry-After. It runs before the body is read, so a flood costs no parsing.
 * The count is per process: behind a load balancer each node counts its own share.
 *
 * @example
 * router.post('/v1/mints', requireApiKey(keys), rateLimitPerKey({ perMinute: 600, burst: 60 }), handler);
 */
export function rateLimitPerKey({ perMinute, burst }: { perMinute: number; burst: number }) {
  const limiter = createRateLimiter({ perMinute, burst });
  return (_req: Request, res: Response, next: NextFunction) => {
    const { keyDigest } = res.locals as Partial<KeyedLocals>;
    if (!keyDigest) return next(apiError('INTERNAL', 'rate limit applied before the API key was checked', { retryable: false }));
    const waitS = limiter.take(keyDigest);
    if (waitS === 0) return next();
    next(
      apiError(
        'RATE_LIMITED',
        `this API key is over its limit of ${perMinute} mints a minute (bursts of ${burst}); retry in ${waitS} s (the node's operator sets the limit: api.ratePerMinute, AIGC_API_RATE_PER_MINUTE)`,
        { retryable: true, retryAfterMs: waitS * 1_000 },
      ),
    );
  };
}
