import type { NextFunction, Request, Response } from 'express';

/**
 * CORS for the API, so a mint page on another origin can read statuses and streams. `origins` are exact origins
 * (`https://mint.example.com`) or `*`; with none, no CORS headers are sent and browsers keep other origins out.
 * Preflight requests are answered here, with allow headers for admitted origins only.
 *
 * @example
 * router.use(cors(['https://mint.example.com']));
 */
export function cors(origins: string[]) {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return (req: Request, res: Response, next: NextFunction) => {
    if (!origins.length) return next();
    const origin = req.get('origin');
    res.vary('Origin');
    const admitted = origin !== undefined && (any || allowed.has(origin.toLowerCase()));
    if (admitted) {
      res.set('access-control-allow-origin', any ? '*' : origin);
      res.set('access-control-expose-headers', 'Location, Idempotent-Replayed');
    }
    if (req.method === 'OPTIONS') {
      // A foreign origin's preflight gets no allow headers, so its browser refuses the call it asked about.
      if (admitted)
        res.set({
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'Authorization, Content-Type, Idempotency-Key, Last-Event-ID',
          'access-control-max-age': '600',
        });
      res.status(204).end();
      return;
    }
    next();
  };
}
