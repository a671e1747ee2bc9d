import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageDir } from '../../pipeline/credentials/worker';

/**
 * The Content Authenticity Initiative's own C2PA reader (c2pa-rs compiled to WebAssembly, @contentauth/c2pa-wasm):
 * an implementation independent of the one that signs (c2pa-ts). ES modules only, so it runs in a worker thread.
 * Returns its manifest store JSON; `trustAnchors` (PEM) makes a development CA trusted.
 */
export function readWithC2paRs(image: Uint8Array, mime: string, trustAnchors?: string): Promise<C2paRsStore> {
  const dir = packageDir('@contentauth/c2pa-wasm');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    (async () => {
      const c2pa = await import(workerData.module);
      c2pa.initSync({ module: fs.readFileSync(workerData.wasm) });
      const context = workerData.trustAnchors ? JSON.stringify({ verify: { verify_trust: true }, trust: { trust_anchors: workerData.trustAnchors } }) : undefined;
      const reader = await c2pa.WasmReader.fromBytes(workerData.mime, workerData.image, context);
      return reader.json();
    })().then((json) => parentPort.postMessage({ json }), (e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, {
      eval: true,
      workerData: {
        module: pathToFileURL(path.join(dir, 'pkg', 'c2pa.js')).href,
        wasm: path.join(dir, 'pkg', 'c2pa_bg.wasm'),
        image,
        mime,
        trustAnchors,
      },
    });
    worker.once('message', (m: { json?: string; error?: string }) => {
      void worker.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(JSON.parse(m.json!) as C2paRsStore);
    });
    worker.once('error', reject);
  });
}

export type C2paRsStatus = { code: string; url?: string; explanation?: string };
export type C2paRsStore = {
  active_manifest?: string;
  manifests: Record<string, { assertions: { label: string; data: unknown }[]; signature_info?: { alg?: string; common_name?: string } }>;
  validation_status?: C2paRsStatus[];
  validation_results?: { activeManifest?: { success: C2paRsStatus[]; failure: C2paRsStatus[]; informational: C2paRsStatus[] } };
  validation_state?: string;
};

/** True when the file exists: the reader ships its .wasm in the package. */
export const c2paRsAvailable = () => fs.existsSync(path.join(packageDir('@contentauth/c2pa-wasm'), 'pkg', 'c2pa_bg.wasm'));
