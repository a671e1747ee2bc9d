import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { apiError } from './errors';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

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
  const digests = keys.map(sha256);
  return (req: Request, res: Response, next: NextFunction) => {
    if (!digests.length) {
      return next(
        apiError(
          'API_DISABLED',
          'minting for users without wallets is off on this node: set AIGC_API_KEYS (comma-separated keys of at least 16 characters) or api.keys in the config file, and restart the node',
        ),
      );
    }
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const given = sha256(token);
    if (!token || !digests.some((d) => timingSafeEqual(d, given))) {
      return next(apiError('UNAUTHORIZED', 'missing or unknown API key: send Authorization: Bearer <key> with a key from AIGC_API_KEYS'));
    }
    const keyDigest = given.toString('hex');
    Object.assign(res.locals, { keyDigest, keyId: keyDigest.slice(0, 8) } satisfies KeyedLocals);
    next();
  };
}
