import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import sharp from 'sharp';
import { attachCredentials } from '../../pipeline/credentials/attach';
import {
  BINDING_LABEL,
  type CredentialBinding,
  embedCredentials,
  loadSigningCredentials,
  readCredentials,
  TRAINED_ALGORITHMIC_MEDIA,
} from '../../pipeline/credentials/credentials';
import { createDevelopmentCredentials } from '../../pipeline/credentials/dev-ca';
import { WebPAsset } from '../../pipeline/credentials/webp-asset';
import type { GeneratedImage } from '../../pipeline/gateway-client';
import { postprocess } from '../../services/diffusion-gateway/postprocess';
import { readWithC2paRs } from '../helpers/c2pa-reader';

jest.setTimeout(120_000);

const photo = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'photos', name));
const binding: CredentialBinding = {
  chainId: 31337,
  collection: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  requestId: '7',
  seed: `0x${'11'.repeat(32)}`,
  renderSeed: `0x${'22'.repeat(32)}`,
  modelHash: `0x${'33'.repeat(32)}`,
};
const agent = { model: 'local-procedural', backend: 'local', version: '1', framework: 'aigc-nft 0.1.0' };

/** The top-level chunks of a RIFF file, walked here independently of `WebPAsset`. */
function riffChunks(file: Buffer): { fourcc: string; offset: number; size: number }[] {
  const chunks = [];
  for (let pos = 12; pos + 8 <= file.length;) {
    const size = file.readUInt32LE(pos + 4);
    chunks.push({ fourcc: file.toString('latin1', pos, pos + 4), offset: pos, size });
    pos += 8 + size + (size & 1);
  }
  return chunks;
}
/** A byte in the middle of the image data (the VP8/VP8L bitstream) of a WebP. */
const webpPixelByte = (file: Buffer) => {
  const image = riffChunks(file).find((c) => c.fourcc === 'VP8 ' || c.fourcc === 'VP8L')!;
  return image.offset + 8 + Math.floor(image.size / 2);
};
/** A WebP as the gateway encodes one (extended format: VP8X, VP8, XMP with the render's provenance). */
const gatewayWebp = async () =>
  (
    await postprocess({
      image: photo('chelsea.png'),
      width: 320,
      height: 240,
      format: 'webp',
      provenance: { requestId: '7', seed: 42, model: 'local-procedural', promptSha256: '00'.repeat(32) },
    })
  ).image;
/** A simple-format lossless WebP with alpha (a lone VP8L chunk), which gains a VP8X header when signed. */
const simpleWebp = () => sharp(photo('chelsea.png')).ensureAlpha(0.5).webp({ lossless: true, effort: 1 }).toBuffer();

let dir: string;
let dev: Awaited<ReturnType<typeof createDevelopmentCredentials>>;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-c2pa-'));
  dev = await createDevelopmentCredentials({ dir });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('development credentials', () => {
  it('writes a CA, a chain and a private key readable only by the owner, marked DEVELOPMENT ONLY', async () => {
    expect(dev.created).toBe(true);
    expect(dev.subject).toMatch(/DEVELOPMENT ONLY/);
    expect(fs.statSync(dev.keyPath).mode & 0o777).toBe(0o600);
    const creds = loadSigningCredentials(dev);
    expect(creds.certificates).toHaveLength(2);
    expect((await createDevelopmentCredentials({ dir })).created).toBe(false); // kept
  });

  it('names the unreadable file, never the content', () => {
    expect(() => loadSigningCredentials({ certPath: dev.keyPath, keyPath: dev.keyPath })).toThrow(/holds no PEM certificate/);
    try {
      loadSigningCredentials({ certPath: dev.certPath, keyPath: dev.certPath });
    } catch (e) {
      expect(String(e)).not.toMatch(/BEGIN/);
    }
  });
});

// For PNG and JPEG the manifest sits near the start, so a byte 40 from the end is image data; in a WebP it is the
// last chunk, so the byte is taken from the middle of the bitstream.
const nearTheEnd = (file: Buffer) => file.length - 40;
describe.each<[string, string, () => Buffer | Promise<Buffer>, (file: Buffer) => number]>([
  ['PNG', 'image/png', () => photo('chelsea.png'), nearTheEnd],
  ['JPEG', 'image/jpeg', () => photo('rocket.jpg'), nearTheEnd],
  ['WebP as the gateway encodes it', 'image/webp', gatewayWebp, webpPixelByte],
  ['simple-format lossless WebP with alpha', 'image/webp', simpleWebp, webpPixelByte],
])('C2PA credentials in a %s', (_name, mime, load, pixelByte) => {
  let signed: Buffer;
  let original: Buffer;
  beforeAll(async () => {
    original = await load();
    const result = await embedCredentials({ image: original, mime, credentials: loadSigningCredentials(dev), binding, agent });
    if (!result.embedded) throw new Error(result.reason);
    signed = result.image;
    // The cost, for the record: bytes added and signing time per image.
    console.log(`${mime}: +${result.addedBytes} bytes, signed in ${result.signMs} ms`);
    expect(result.addedBytes).toBeGreaterThan(0);
  });

  it('still decodes to the same pixels', async () => {
    const a = await sharp(original).raw().toBuffer({ resolveWithObject: true });
    const b = await sharp(signed).raw().toBuffer({ resolveWithObject: true });
    expect(b.info).toEqual(a.info);
    expect(b.data.equals(a.data)).toBe(true);
  });

  it('reads back valid with the signing library, with the created action and the binding', async () => {
    const report = await readCredentials(signed, mime);
    expect(report).toMatchObject({ present: true, valid: true, binding });
    if (!report.present) throw new Error('absent');
    expect(report.created).toMatchObject({ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
    expect(report.created?.softwareAgent?.name).toBe('local/local-procedural');
  });

  it('validates in an independent implementation (c2pa-rs as WebAssembly): signature and data hash, trusted with the dev CA', async () => {
    const store = await readWithC2paRs(signed, mime, fs.readFileSync(dev.caPath, 'utf8'));
    const active = store.manifests[store.active_manifest!];
    const codes = (store.validation_results?.activeManifest?.success ?? []).map((s) => s.code);
    expect(codes).toEqual(expect.arrayContaining(['claimSignature.validated', 'assertion.dataHash.match']));
    expect(store.validation_results?.activeManifest?.failure).toEqual([]);
    expect(store.validation_state).toBe('Trusted');
    expect(active.signature_info).toMatchObject({ alg: 'Es256', common_name: 'aigc-nft node (DEVELOPMENT ONLY)' });
    expect(active.assertions.find((a) => a.label === BINDING_LABEL)?.data).toEqual(binding);
    const created = active.assertions.find((a) => a.label === 'c2pa.actions.v2')?.data as {
      actions: { action: string; digitalSourceType: string }[];
    };
    expect(created.actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
    // Without the dev CA as a trust anchor the signature is still valid, only untrusted.
    const untrusted = await readWithC2paRs(signed, mime);
    expect((untrusted.validation_status ?? []).map((s) => s.code)).toEqual(['signingCredential.untrusted']);
  });

  it('one changed byte of the image breaks the binding, in both readers', async () => {
    const tampered = Buffer.from(signed);
    tampered[pixelByte(signed)] ^= 0x01;
    const report = await readCredentials(tampered, mime);
    expect(report).toMatchObject({ present: true, valid: false });
    const store = await readWithC2paRs(tampered, mime);
    expect((store.validation_results?.activeManifest?.failure ?? []).map((s) => s.code)).toContain('assertion.dataHash.mismatch');
  });

  it('a changed byte in the signed claim breaks the signature', async () => {
    const tampered = Buffer.from(signed);
    const at = tampered.indexOf(Buffer.from('local-procedural'));
    expect(at).toBeGreaterThan(0);
    tampered[at] ^= 0x01; // in the actions assertion, whose hash the signed claim holds
    const store = await readWithC2paRs(tampered, mime);
    expect(store.validation_state).toBe('Invalid');
    expect((await readCredentials(tampered, mime)).present && ((await readCredentials(tampered, mime)) as { valid: boolean }).valid).toBe(
      false,
    );
  });
});

describe('WebP: the manifest store as a RIFF chunk', () => {
  const sign = async (image: Buffer) => {
    const result = await embedCredentials({ image, mime: 'image/webp', credentials: loadSigningCredentials(dev), binding, agent });
    if (!result.embedded) throw new Error(result.reason);
    return result.image;
  };

  it('appends one C2PA chunk, last, grows the RIFF size, keeps every other chunk byte for byte', async () => {
    const original = await gatewayWebp();
    const signed = await sign(original);
    const before = riffChunks(original);
    const after = riffChunks(signed);
    expect(before.map((c) => c.fourcc)).toEqual(['VP8X', 'VP8 ', 'XMP ']);
    expect(after.map((c) => c.fourcc)).toEqual(['VP8X', 'VP8 ', 'XMP ', 'C2PA']);
    for (const [i, c] of before.entries()) {
      const span = 8 + c.size + (c.size & 1);
      expect(signed.subarray(after[i].offset, after[i].offset + span).equals(original.subarray(c.offset, c.offset + span))).toBe(true);
    }
    const c2pa = after[3];
    expect(signed.readUInt32LE(4)).toBe(signed.length - 8);
    expect(c2pa.offset + 8 + c2pa.size + (c2pa.size & 1)).toBe(signed.length);
    expect(signed.toString('latin1', c2pa.offset + 12, c2pa.offset + 16)).toBe('jumb'); // the store is a JUMBF superbox
    // The data hash excludes exactly that chunk, header included.
    expect(new WebPAsset(signed).getHashExclusionRange()).toEqual({ start: c2pa.offset, length: 8 + c2pa.size });
  });

  it('makes a simple-format file extended: a VP8X header with the canvas size and alpha flag from the bitstream', async () => {
    const original = await simpleWebp();
    expect(riffChunks(original).map((c) => c.fourcc)).toEqual(['VP8L']);
    const signed = await sign(original);
    const chunks = riffChunks(signed);
    expect(chunks.map((c) => c.fourcc)).toEqual(['VP8X', 'VP8L', 'C2PA']);
    const vp8x = signed.subarray(chunks[0].offset + 8, chunks[0].offset + 18);
    expect(vp8x[0]).toBe(0x10); // alpha, nothing else
    expect([vp8x.readUIntLE(4, 3) + 1, vp8x.readUIntLE(7, 3) + 1]).toEqual([451, 300]);
    expect(await sharp(signed).metadata()).toMatchObject({ width: 451, height: 300, hasAlpha: true, channels: 4 });
    // A lossy simple file: no alpha flag.
    const lossy = await sign(await sharp(photo('chelsea.png')).webp().toBuffer());
    expect(riffChunks(lossy).map((c) => c.fourcc)).toEqual(['VP8X', 'VP8 ', 'C2PA']);
    expect(lossy[20]).toBe(0);
    expect(await sharp(lossy).metadata()).toMatchObject({ width: 451, height: 300, hasAlpha: false });
  });

  it('signing a signed WebP replaces its manifest store rather than adding a second', async () => {
    const once = await sign(await gatewayWebp());
    const twice = await sign(once);
    expect(riffChunks(twice).filter((c) => c.fourcc === 'C2PA')).toHaveLength(1);
    expect(await readCredentials(twice, 'image/webp')).toMatchObject({ present: true, valid: true });
    const store = await readWithC2paRs(twice, 'image/webp', fs.readFileSync(dev.caPath, 'utf8'));
    expect(store.validation_state).toBe('Trusted');
    expect(Object.keys(store.manifests)).toHaveLength(1);
  });

  it('pads a store of odd length to keep the RIFF chunks even, and hashes the pad byte', async () => {
    const asset = new WebPAsset(await gatewayWebp());
    await asset.ensureManifestSpace(101);
    const range = asset.getHashExclusionRange();
    await asset.writeManifestJUMBF(new Uint8Array(101).fill(7));
    const file = Buffer.from(await asset.getDataRange());
    expect(file.length % 2).toBe(0);
    expect(file.readUInt32LE(4)).toBe(file.length - 8);
    expect(range).toEqual({ start: file.length - 110, length: 109 });
    expect(file[file.length - 1]).toBe(0);
    expect(Buffer.from(asset.getManifestJUMBF()!).equals(Buffer.alloc(101, 7))).toBe(true);
    await expect(asset.writeManifestJUMBF(new Uint8Array(100))).rejects.toThrow(/Wrong amount of space/);
  });

  it('refuses malformed WebP files and bytes that are not WebP, saying what is wrong', async () => {
    const webp = await gatewayWebp();
    const credentials = loadSigningCredentials(dev);
    const truncated = webp.subarray(0, webp.length - 100);
    await expect(embedCredentials({ image: truncated, mime: 'image/webp', credentials, binding, agent })).rejects.toThrow(
      /could not sign C2PA credentials: Error: Malformed WebP \(RIFF size \d+ exceeds the \d+-byte file\)/,
    );
    const overrun = Buffer.from(webp);
    overrun.writeUInt32LE(webp.length, 16); // the VP8X chunk claims more bytes than the file has
    expect(() => new WebPAsset(overrun)).toThrow(/chunk "VP8X" at byte 12 overruns the RIFF chunk/);
    await expect(embedCredentials({ image: photo('chelsea.png'), mime: 'image/webp', credentials, binding, agent })).rejects.toThrow(
      /the image bytes are not image\/webp/,
    );
    expect(WebPAsset.canRead(photo('chelsea.png'))).toBe(false);
  });
});

describe('in the pipeline (attachCredentials)', () => {
  const generated = (image: Buffer, mime: string) =>
    ({ image, mime, sha256: '', bytes: image.length, model: { backend: 'local', id: 'local-procedural', version: '1' } }) as GeneratedImage;
  const logged: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (line, _enc, done) => (logged.push(line.toString()), done()) }));

  it('embeds credentials in a WebP like in a PNG: the final bytes, their sha256 and size', async () => {
    const webp = await gatewayWebp();
    const { generated: out, record } = await attachCredentials(generated(webp, 'image/webp'), {
      credentials: loadSigningCredentials(dev),
      binding,
      logger,
    });
    expect(record).toEqual({ c2pa: 'embedded', addedBytes: out.image.length - webp.length });
    // The store is certificates, claim and assertions, not the 25 kB c2pa-ts reserves for a timestamp we do not ask for.
    expect(out.image.length - webp.length).toBeLessThan(6_000);
    expect(out.bytes).toBe(out.image.length);
    expect(out.sha256).toBe(createHash('sha256').update(out.image).digest('hex'));
    expect(await readCredentials(out.image, 'image/webp')).toMatchObject({ present: true, valid: true, binding });
  });

  it('stores an AVIF as it is, recording and logging why', async () => {
    const avif = await sharp(photo('chelsea.png')).avif({ effort: 0 }).toBuffer();
    const { generated: out, record } = await attachCredentials(generated(avif, 'image/avif'), {
      credentials: loadSigningCredentials(dev),
      binding,
      logger,
    });
    expect(record).toEqual({ c2pa: 'not-embedded', reason: 'C2PA embedding is not supported for image/avif' });
    expect(out.image).toBe(avif);
    expect(logged.some((l) => /not supported for image\/avif: image stored without Content Credentials/.test(l))).toBe(true);
    expect(await readCredentials(avif, 'image/avif')).toEqual({ present: false, supported: false });
  });
});
