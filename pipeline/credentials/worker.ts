import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AigcError } from '../errors';
import { WebPAsset } from './webp-asset';

/**
 * The C2PA library (@trustnxt/c2pa-ts) is published as ES modules only, which neither this CommonJS build nor Jest's
 * module system can load. It runs in a worker thread, where Node's own `import()` loads it; the worker also keeps
 * manifest hashing and signing off the node's event loop. The code is plain JavaScript passed as text so it runs the
 * same from sources and from dist/.
 *
 * Operations: `sign` embeds a signed manifest (PNG, JPEG with c2pa-ts's assets; WebP with ours, `WebPAsset`, whose
 * source the worker gets as text too) and returns the new bytes; `read` returns the manifest store's active manifest,
 * its assertions and c2pa-ts's validation of it against the bytes.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const nodeCrypto = require('node:crypto');
const lib = (async () => {
  const [asset, manifest, jumbf] = await Promise.all(['asset', 'manifest', 'jumbf'].map((m) => import(workerData.c2pa + '/dist/' + m + '/index.js')));
  const x509 = await import(workerData.x509);
  const X509 = x509.X509Certificate || x509.default.X509Certificate;
  /** A CBOR assertion with content of our own (c2pa-ts has no generic one). */
  class CborAssertion extends manifest.Assertion {
    constructor(label, content) { super(); this.label = label; this.uuid = new manifest.ActionAssertion().uuid; this.content = content; }
    readContentFromJUMBF(box) { this.content = box.content; }
    generateJUMBFBoxForContent() { const box = new jumbf.CBORBox(); box.content = this.content; return box; }
  }
  return { asset, manifest, jumbf, X509, CborAssertion };
})();
const WebPAsset = new Function('return (' + workerData.webpAsset + ')')();
const assetOf = (asset, bytes, mime) => {
  const type = { 'image/png': asset.PNG, 'image/jpeg': asset.JPEG, 'image/webp': WebPAsset }[mime];
  if (!type) throw new Error('no C2PA embedding for ' + mime);
  if (!type.canRead(bytes)) throw new Error('the image bytes are not ' + mime);
  return new type(bytes);
};
const SIGNATURE_PADDING = 1024;
const ops = {
  async sign({ image, mime, certificates, key, action, assertions, instanceId }) {
    const { asset, manifest, X509, CborAssertion } = await lib;
    const started = performance.now();
    const [leaf, ...chain] = certificates.map((pem) => new X509(pem));
    const privateKey = nodeCrypto.createPrivateKey(key);
    // ES256 with the signature as r|s (IEEE P1363), as COSE requires.
    const signer = {
      algorithm: -7,
      certificate: leaf,
      chainCertificates: chain,
      async sign(payload) { return new Uint8Array(nodeCrypto.sign('sha256', payload, { key: privateKey, dsaEncoding: 'ieee-p1363' })); },
    };
    const target = assetOf(asset, new Uint8Array(image), mime);
    const store = new manifest.ManifestStore();
    const m = store.createManifest({ claimVersion: manifest.ClaimVersion.V2, assetFormat: mime, instanceID: instanceId, defaultHashAlgorithm: 'SHA-256', signer });
    // c2pa-ts reserves 25,000 bytes in the signature for an RFC 3161 timestamp token; none is requested here, and an
    // ES256 signature fits in a few dozen bytes. Without this, each image would carry ~25 kB of zeros.
    m.signature.signatureData.paddingLength = SIGNATURE_PADDING;
    const actions = new manifest.ActionAssertion();
    actions.actions.push(action);
    m.addAssertion(actions);
    for (const [label, content] of Object.entries(assertions)) m.addAssertion(new CborAssertion(label, content));
    const hash = manifest.DataHashAssertion.create('SHA-256');
    m.addAssertion(hash);
    await target.ensureManifestSpace(store.measureSize());
    await hash.updateWithAsset(target);
    await m.sign(signer);
    await target.writeManifestJUMBF(store.getBytes());
    const out = await target.getDataRange();
    return { image: out, ms: performance.now() - started };
  },
  async read({ image, mime }) {
    const { asset, manifest, jumbf } = await lib;
    const target = assetOf(asset, new Uint8Array(image), mime);
    const bytes = target.getManifestJUMBF();
    if (!bytes) return { present: false };
    let result;
    let active;
    try {
      const store = manifest.ManifestStore.read(jumbf.SuperBox.fromBuffer(bytes));
      active = store.getActiveManifest();
      result = await store.validate(target);
    } catch (e) {
      return { present: true, valid: false, statuses: [String((e && e.message) || e)], assertions: {} };
    }
    const assertions = {};
    for (const a of (active && active.assertions && active.assertions.assertions) || []) {
      const raw = a.sourceBox && a.sourceBox.contentBoxes && a.sourceBox.contentBoxes[0] ? a.sourceBox.contentBoxes[0].content : undefined;
      assertions[a.fullLabel || a.label] = a.actions !== undefined ? { actions: a.actions } : a.content !== undefined ? a.content : raw !== undefined ? raw : true;
    }
    // c2pa-ts reports successes and failures together, each marked.
    const failures = result.statusEntries.filter((s) => s.success === false).map((s) => s.code + (s.explanation ? ': ' + s.explanation : ''));
    return {
      present: true,
      valid: result.isValid,
      statuses: failures,
      signer: (() => { try { return active.signature.signatureData.certificate.subject; } catch { return undefined; } })(),
      assertions,
    };
  },
};
parentPort.on('message', async ({ id, op, args }) => {
  try {
    parentPort.postMessage({ id, value: await ops[op](args) });
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.stack) || e) });
  }
});
`;

/** A package's folder, found the way `require` looks for it (its `exports` do not allow `package.json`). */
export function packageDir(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  throw new AigcError('CONFIG_INVALID', `package ${name} is not installed: run npm install`);
}

let worker: Worker | undefined;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
let nextId = 0;

function start(): Worker {
  const w = new Worker(WORKER, {
    eval: true,
    workerData: {
      c2pa: pathToFileURL(packageDir('@trustnxt/c2pa-ts')).href,
      x509: pathToFileURL(require.resolve('@peculiar/x509')).href,
      webpAsset: WebPAsset.toString(),
    },
  });
  w.unref();
  w.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: string }) => {
    const p = pending.get(id);
    pending.delete(id);
    if (!pending.size) w.unref();
    if (error) p?.reject(new Error(error));
    else p?.resolve(value);
  });
  w.on('error', (error) => {
    worker = undefined;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  });
  return w;
}

/** Runs `op` in the process's C2PA worker (started on first use, unreferenced while idle). */
export function c2paCall<T>(op: 'sign' | 'read', args: Record<string, unknown>): Promise<T> {
  worker ??= start();
  const w = worker;
  const id = nextId++;
  w.ref();
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    w.postMessage({ id, op, args });
  });
}
