import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Request, type Response, Router } from 'express';

/** Where `npm run build` writes the mint page bundle, found from pipeline/http (sources) or dist/pipeline/http. */
export function embedBundlePath(): string {
  const compiled = path.resolve(__dirname, '..', '..', 'mint-page', 'embed.js');
  return fs.existsSync(compiled) ? compiled : path.resolve(__dirname, '..', '..', 'dist', 'mint-page', 'embed.js');
}

type Bundle = { bytes: Buffer; etag: string; mtimeMs: number };

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/**
 * The mint page: `GET /embed.js` (the `<aigc-mint>` web component, one file, ETag from its content) and a hosted page
 * `GET /mint/:chainId/:address` that any site may frame (`?rpc=` names a public JSON-RPC URL for reads).
 *
 * @example
 * app.use(createMintPageRouter({ collections: [{ chainId: 8453, address, name: 'Genesis Dreams' }] }));
 */
export function createMintPageRouter({
  collections,
  bundlePath = embedBundlePath(),
}: {
  collections: { chainId: number; address: string; name: string }[];
  bundlePath?: string;
}): Router {
  const router = Router();
  let cached: Bundle | undefined;
  const bundle = (): Bundle | undefined => {
    const stat = fs.statSync(bundlePath, { throwIfNoEntry: false });
    if (!stat) return undefined;
    if (cached?.mtimeMs !== stat.mtimeMs) {
      const bytes = fs.readFileSync(bundlePath);
      cached = { bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`, mtimeMs: stat.mtimeMs };
    }
    return cached;
  };

  router.get('/embed.js', (req: Request, res: Response) => {
    const b = bundle();
    // A script any page may load, also as a module script (which browsers fetch with CORS).
    res.set({ 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' });
    if (!b) {
      res.status(404).type('text/plain').send(`mint page bundle not built (${bundlePath}): run npm run build`);
      return;
    }
    // Revalidated every 5 minutes; a new bundle has a new ETag.
    res.set({ 'cache-control': 'public, max-age=300, must-revalidate', etag: b.etag });
    if (req.get('if-none-match') === b.etag) {
      res.status(304).end();
      return;
    }
    res.type('application/javascript; charset=utf-8').send(b.bytes);
  });

  router.get('/mint/:chainId/:address', (req: Request, res: Response) => {
    const { chainId, address } = req.params as { chainId: string; address: string };
    const c = collections.find((x) => String(x.chainId) === chainId && x.address.toLowerCase() === address.toLowerCase());
    if (!c) {
      res.status(404).type('text/plain').send(`collection ${address} on chain ${chainId} is not served by this node`);
      return;
    }
    const rpc = typeof req.query.rpc === 'string' && /^https?:\/\/[^\s"'<>]+$/.test(req.query.rpc) ? req.query.rpc : undefined;
    // Framed by any site: no X-Frame-Options, and CSP says so explicitly.
    res.set({ 'content-security-policy': 'frame-ancestors *', 'cache-control': 'no-cache' });
    res.type('text/html; charset=utf-8').send(hostedPage(c, rpc));
  });
  return router;
}

function hostedPage(c: { chainId: number; address: string; name: string }, rpc: string | undefined): string {
  const rpcAttr = rpc ? ` rpc="${escapeHtml(rpc)}"` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mint: ${escapeHtml(c.name)}</title>
<style>
  html { color-scheme: light dark; }
  body { margin: 0; font-family: system-ui, sans-serif; background: Canvas; color: CanvasText; }
  main { max-width: 36rem; margin: 0 auto; padding: 1rem; }
</style>
<script src="/embed.js" defer></script>
</head>
<body>
<main>
<aigc-mint collection="${escapeHtml(c.address)}" chain-id="${c.chainId}"${rpcAttr}></aigc-mint>
</main>
</body>
</html>
`;
}
