import fs from 'node:fs';
import path from 'node:path';
import Arweave from 'arweave';
import type { JWKInterface } from 'arweave/node/lib/wallet';
import { AigcError } from '../errors';

export type ArweaveStore = {
  /** Wallet address that pays for uploads. */
  address: string;
  /** Uploads `data` (chunked) with `tags` and returns the transaction id. */
  upload(data: Uint8Array, tags: Record<string, string>): Promise<string>;
  /** Fetches a transaction's data through the gateway. */
  download(id: string): Promise<Uint8Array>;
};

export function arweaveClient(url: string): Arweave {
  const u = new URL(url);
  return Arweave.init({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    protocol: u.protocol.replace(':', ''),
    timeout: 60_000,
    logging: false,
  });
}

/**
 * Arweave storage through one gateway. Uploads use arweave-js's chunk uploader, which resumes a chunk on
 * transient errors; a failure surfaces as a retryable `ARWEAVE_FAILED`.
 *
 * @example
 * const store = await createArweaveStore({ url: 'https://arweave.net', jwk });
 * const id = await store.upload(bytes, { 'Content-Type': 'image/png' });
 */
export async function createArweaveStore({ url, jwk }: { url: string; jwk: JWKInterface }): Promise<ArweaveStore> {
  const arweave = arweaveClient(url);
  const address = await arweave.wallets.jwkToAddress(jwk);
  const base = url.replace(/\/+$/, '');
  return {
    address,
    async upload(data, tags) {
      try {
        const tx = await arweave.createTransaction({ data }, jwk);
        for (const [name, value] of Object.entries(tags)) tx.addTag(name, value);
        await arweave.transactions.sign(tx, jwk);
        const uploader = await arweave.transactions.getUploader(tx);
        while (!uploader.isComplete) await uploader.uploadChunk();
        return tx.id;
      } catch (cause) {
        throw new AigcError('ARWEAVE_FAILED', `upload to ${url} failed`, { cause, retryable: true, details: String(cause) });
      }
    },
    async download(id) {
      try {
        // The gateway's data route first (one request); its length is checked against the transaction's
        // data_size because some gateways (arlocal) truncate large data there. Then arweave-js's chunk reader.
        const [meta, raw] = await Promise.all([fetch(`${base}/tx/${id}`), fetch(`${base}/${id}`)]);
        if (meta.ok && raw.ok) {
          const size = Number(((await meta.json()) as { data_size?: string }).data_size);
          const bytes = new Uint8Array(await raw.arrayBuffer());
          if (bytes.length === size) return bytes;
        }
        const data = await arweave.transactions.getData(id, { decode: true });
        // arweave-js returns a Uint8Array, or an ArrayBuffer when it falls back to the gateway's cache.
        return typeof data === 'string' ? Buffer.from(data) : new Uint8Array(data as unknown as ArrayBuffer);
      } catch (cause) {
        throw new AigcError('ARWEAVE_FAILED', `cannot fetch ${id} from ${url}`, { cause, retryable: true, details: String(cause) });
      }
    },
  };
}

/** Reads a JWK wallet file, or creates one (mode 0600) if `create` and it does not exist. */
export async function loadWallet(file: string, { create = false } = {}): Promise<JWKInterface> {
  if (fs.existsSync(file)) {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as JWKInterface;
    } catch (cause) {
      throw new AigcError('CONFIG_INVALID', `Arweave wallet ${file} is not a JWK JSON file`, { cause });
    }
  }
  if (!create) throw new AigcError('CONFIG_INVALID', `Arweave wallet ${file} does not exist: set AIGC_ARWEAVE_WALLET`);
  const jwk = await Arweave.init({}).wallets.generate();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}
