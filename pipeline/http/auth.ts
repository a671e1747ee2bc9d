import type { NextFunction, Request, Response } from 'express';
import { apiError } from './errors';
import { apiKeyMatcher, bearerToken } from '../../protocol/api-keys';

/** Set by `requireApiKey`: the SHA-256 of the caller's key (hex), and its first 8 digits as an id for logs. */
export type KeyedLocals = { keyDigest: string; keyId: string };

/**
 * Middleware that admits requests carrying `Authorization: Bearer <key>` with one of `keys` (compared in
 * constant time). Without any key configured the route is off, and says how to turn it on.
 *
 * @example
 * router.post('/v1/mints', requireApiKey(config.api.keys), handler);
 */
export function requireApiKey(keys: string[]) {
  const match = apiKeyMatcher(keys);
  return (req: Request, res: Response, next: NextFunction) => {
    if (!keys.length) {
      return next(
        apiError(
          'API_DISABLED',
          'minting for users without wallets is off on this node: set AIGC_API_KEYS (comma-separated keys of at least 16 characters) or api.keys in the config file, and restart the node',
        ),
      );
    }
    const keyDigest = match(bearerToken(req.get('authorization')));
    if (!keyDigest) {
      return next(apiError('UNAUTHORIZED', 'missing or unknown API key: send Authorization: Bearer <key> with a key from AIGC_API_KEYS'));
    }
    Object.assign(res.locals, { keyDigest, keyId: keyDigest.slice(0, 8) } satisfies KeyedLocals);
    next();
  };
}
