import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * A matcher of bearer tokens against the configured API keys, compared in constant time over their SHA-256 (so
 * neither a key's length nor its first differing byte shows in the timing). Returns the token's digest (hex) when it
 * is one of the keys, the caller's identity for rate limits and logs; undefined otherwise.
 *
 * @example
 * const match = apiKeyMatcher(['a-long-secret-key-123']);
 * match(token) // '9f86…' or undefined
 */
export function apiKeyMatcher(keys: string[]): (token: string) => string | undefined {
  const digests = keys.map(sha256);
  return (token) => {
    if (!token) return undefined;
    const given = sha256(token);
    // Every key is compared, match or not: the time does not say which one matched.
    const found = digests.reduce((hit, d) => timingSafeEqual(d, given) || hit, false);
    return found ? given.toString('hex') : undefined;
  };
}

/** The token of an `Authorization: Bearer <token>` header, or '' for any other header or none. */
export function bearerToken(header: string | undefined): string {
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
}
