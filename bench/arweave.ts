import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OUTPUT_FORMATS } from '../protocol/gateway';
import { measureSample } from '../pipeline/cost/sample';
import { startArlocal } from '../pipeline/embedded/arlocal';
import { arweaveClient, createArweaveStore, loadWallet } from '../pipeline/storage/arweave';
import { ethereumItemSigner, signItem } from '../pipeline/storage/bundle';
import { loadTemplate } from '../pipeline/template';
import { postprocess } from '../services/diffusion-gateway/postprocess';

const PHOTOS = path.join(__dirname, '..', '..', 'test', 'fixtures', 'photos');
const UPLOADS = 7;
const KEY = `0x${'11'.repeat(32)}`;

/**
 * What a mint stores on Arweave: the encoded bytes of a fixed set of images (a render of each shipped template at
 * its size, and the photos in test/fixtures/photos at 512²) per output format, the manifest's bytes, the time to
 * upload one image + manifest to arlocal (median of 7), and how many bytes bundle mode stores against two plain
 * transactions (its data-item headers: signature, owner, tags).
 */
export async function run(): Promise<Record<string, unknown>> {
  const templates = ['open-prompt', 'avatar'].map((t) => loadTemplate(t));
  const totals: Record<string, number> = { png: 0, webp: 0, avif: 0 };
  const bytesByFormat: Record<string, Record<string, number>> = {};
  let manifestBytes = 0;
  for (const template of templates) {
    const size = `${template.render.width}²`;
    for (const format of OUTPUT_FORMATS) {
      const s = await measureSample({ template, format });
      totals[format] += s.imageBytes;
      manifestBytes = Math.max(manifestBytes, s.manifestBytes);
      (bytesByFormat[size] ??= {})[format] = s.imageBytes + s.manifestBytes;
    }
  }
  const provenance = { requestId: '1', seed: 1, model: 'photo', promptSha256: createHash('sha256').update('photo').digest('hex') };
  for (const photo of fs.readdirSync(PHOTOS).filter((f) => /\.(png|jpe?g)$/i.test(f))) {
    const image = fs.readFileSync(path.join(PHOTOS, photo));
    for (const format of OUTPUT_FORMATS) {
      const out = await postprocess({ image, width: 512, height: 512, format, provenance });
      totals[format] += out.bytes;
      (bytesByFormat['photos 512²'] ??= {})[format] =
        ((bytesByFormat['photos 512²'] ??= {})[format] ?? 0) + out.bytes / 2 + manifestBytes / 2;
    }
  }

  // Upload timing on arlocal: one image (open-prompt png) and one manifest as two transactions.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-bench-ar-'));
  const arlocal = await startArlocal({ dbPath: path.join(dir, 'db'), mineIntervalMs: 1_000 });
  try {
    const jwk = await loadWallet(path.join(dir, 'wallet.json'), { create: true });
    await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000000000`);
    const store = await createArweaveStore({ url: arlocal.url, jwk });
    const image = Buffer.alloc((await measureSample({ template: templates[0] })).imageBytes, 7);
    const manifest = Buffer.alloc(manifestBytes, 32);
    const times: number[] = [];
    for (let i = 0; i < UPLOADS; i++) {
      const t = performance.now();
      await Promise.all([store.upload(image, { Type: 'image', N: String(i) }), store.upload(manifest, { Type: 'manifest', N: String(i) })]);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    // Bundle mode stores each file as a signed data item (ANS-104) inside one transaction shared by many mints.
    const signer = ethereumItemSigner(KEY);
    const tags = { 'Content-Type': 'image/png', 'App-Name': 'aigc-nft', Collection: `0x${'ab'.repeat(20)}`, 'Request-Id': '1' };
    const items = [(await signItem(signer, image, tags)).raw.length, (await signItem(signer, manifest, tags)).raw.length];
    return {
      bench: 'arweave',
      pngBytes: totals.png,
      webpBytes: totals.webp,
      avifBytes: totals.avif,
      manifestBytes,
      uploadMsP50: Math.round(times[Math.floor(times.length / 2)]),
      /** Bytes stored per mint in bundle mode ÷ in two-transaction mode (data only: a transaction's header is not charged by size). */
      bundleVsTwoTxRatio: Number(((items[0] + items[1]) / (image.length + manifest.length)).toFixed(4)),
      bytesByFormat,
    };
  } finally {
    await arlocal.stop();
  }
}
