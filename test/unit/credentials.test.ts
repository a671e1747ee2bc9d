import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  BINDING_LABEL,
  type CredentialBinding,
  embedCredentials,
  loadSigningCredentials,
  readCredentials,
  TRAINED_ALGORITHMIC_MEDIA,
} from '../../pipeline/credentials/credentials';
import { createDevelopmentCredentials } from '../../pipeline/credentials/dev-ca';
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

describe.each([
  ['PNG', 'image/png', () => photo('chelsea.png')],
  ['JPEG', 'image/jpeg', () => photo('rocket.jpg')],
])('C2PA credentials in a %s', (_name, mime, load) => {
  let signed: Buffer;
  let original: Buffer;
  beforeAll(async () => {
    original = load();
    const result = await embedCredentials({ image: original, mime, credentials: loadSigningCredentials(dev), binding, agent });
    if (!result.embedded) throw new Error(result.reason);
    signed = result.image;
    // The cost, for the record: bytes added and signing time per image.
    console.log(`${mime}: +${result.addedBytes} bytes, signed in ${result.signMs} ms`);
    expect(result.addedBytes).toBeGreaterThan(0);
  });

  it('still decodes to the same pixels', async () => {
    const a = await sharp(original).raw().toBuffer();
    const b = await sharp(signed).raw().toBuffer();
    expect(b.equals(a)).toBe(true);
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
    // A byte of the image data, far from the manifest (which sits near the start).
    tampered[tampered.length - 40] ^= 0x01;
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

it('WebP and AVIF are returned without credentials, saying why', async () => {
  const webp = await sharp(photo('chelsea.png')).webp().toBuffer();
  const result = await embedCredentials({ image: webp, mime: 'image/webp', credentials: loadSigningCredentials(dev), binding, agent });
  expect(result).toMatchObject({ embedded: false, reason: 'C2PA embedding is not supported for image/webp' });
  expect(result.image).toBe(webp);
  expect(await readCredentials(webp, 'image/avif')).toEqual({ present: false, supported: false });
});
