import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Arweave from 'arweave';
import Transaction from 'arweave/node/lib/transaction';
import type { JWKInterface } from 'arweave/node/lib/wallet';
import { AigcError } from '../errors';
import { createHttpClient, type HttpClient } from '../net/http-client';

export type ArweaveStore = {
  /** Wallet address that pays for uploads. */
  address: string;
  /** Uploads `data` (chunked) with `tags` and returns the transaction id. */
  upload(data: Uint8Array, tags: Record<string, string>): Promise<string>;
  /**
   * Signs a transaction for `data` without sending it, so its id can be recorded first; `send()` uploads it, and
   * `resume(id, data)` finishes an upload of the same bytes after a crash without creating a second transaction.
   * With a journal, `options` are passed to its `record` (the caller's own record of the id, the transaction
   * this one replaces), so both change in one step.
   */
  prepare(data: Uint8Array, tags: Record<string, string>, options?: RecordOptions): Promise<{ id: string; send(): Promise<string> }>;
  /**
   * Re-sends the chunks of a prepared transaction; false if the gateway never received its header or `data`
   * differs. Throws {@link ArweaveRefusedError} when the gateway refuses the recorded header (e.g. its anchor
   * expired while the node was down): that transaction can never be accepted, so the caller signs a new one.
   */
  resume(id: string, data: Uint8Array): Promise<boolean>;
  /** Fetches a transaction's data through the gateway. */
  download(id: string): Promise<Uint8Array>;
  /** Where a transaction stands on the gateway: confirmed (with its depth), pending in the mempool, or unknown. */
  status(id: string): Promise<TxStatus>;
  /** Posts a signed transaction again (header and chunks) from its header and data, e.g. after it was dropped. */
  repost(header: SignedHeader, data: Uint8Array): Promise<void>;
};

export type TxStatus = { state: 'confirmed'; confirmations: number } | { state: 'pending' } | { state: 'not-found' };

/** A signed transaction's header without its data (what `repost` needs besides the bytes). */
export type SignedHeader = ReturnType<Transaction['toJSON']>;

/** What else changes in the same atomic step as a journal record. */
export type RecordOptions = {
  /** A Redis hash field (`key`, `field`) set to the new transaction's id: the caller's own record of it. */
  link?: { key: string; field: string };
  /** A transaction the new one replaces (refused by the gateway, never accepted): it is forgotten. */
  replaces?: string;
};

/** Keeps each signed transaction until it is confirmed, so it can be posted again with the same id. */
export type UploadJournal = {
  /** Called with each signed transaction before any byte of it is sent. */
  record(header: SignedHeader, data: Uint8Array, options?: RecordOptions): Promise<void>;
  header(id: string): Promise<SignedHeader | undefined>;
  /** The transaction was replaced by another one and must never be posted. */
  forget(id: string): Promise<void>;
};

export type ArweaveStoreOptions = {
  url: string;
  jwk: JWKInterface;
  journal?: UploadJournal;
  /**
   * How long a fetched anchor (`last_tx`) is reused. Nodes accept anchors of the last 50 blocks (~100 min on
   * Arweave, 50 s on an arlocal that mines every second); a refusal for the anchor also drops it. @defaultValue 10000
   */
  anchorTtlMs?: number;
};

/** Why a gateway refused a transaction outright: its anchor (`last_tx`), or anything else about it (format, signature…). */
export type RefusalReason = 'anchor' | 'invalid';

/**
 * The gateway refused a transaction's header (HTTP 400): it was not accepted, and posting the same signed
 * transaction again cannot succeed. Unlike a dropped transaction (accepted, then gone: post it again) or an
 * unreachable gateway (network error, 5xx: try again), a refusal for the anchor calls for a new signature with
 * a fresh anchor, which gives the same data a new id.
 */
export class ArweaveRefusedError extends AigcError {
  constructor(
    readonly txId: string,
    readonly reason: RefusalReason,
    answer: string,
  ) {
    super('ARWEAVE_FAILED', `the gateway refused transaction ${txId}${reason === 'anchor' ? ' for its anchor (last_tx)' : ''}`, {
      retryable: true,
      details: answer,
    });
  }
}

/** Whether `error` is a refusal of a transaction for its anchor: sign the same data again with a fresh anchor. */
export function isAnchorRefusal(error: unknown): error is ArweaveRefusedError {
  return error instanceof ArweaveRefusedError && error.reason === 'anchor';
}

/** How a gateway's 400 answer to `POST /tx` is read: arlocal says `"last_tx" is invalid`, nodes `Invalid anchor (last_tx).` or `tx_anchor_not_found`. */
function refusalReason(answer: string): RefusalReason {
  return /anchor|last_tx/i.test(answer) ? 'anchor' : 'invalid';
}

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
export async function createArweaveStore({ url, jwk, journal, anchorTtlMs = 10_000 }: ArweaveStoreOptions): Promise<ArweaveStore> {
  const arweave = arweaveClient(url);
  const address = await arweave.wallets.jwkToAddress(jwk);
  // Posts of headers and chunks, and the reads of the confirmation watcher; arweave-js keeps its own client.
  const http = createHttpClient({ baseUrl: url, name: 'Arweave gateway', errorCode: 'ARWEAVE_FAILED', timeoutMs: 60_000 });
  /** Posts `body`, retrying network errors and other answers; a 400 to a header (`refusable`) is final. */
  const post = async (what: string, path: string, body: unknown, refusable?: { txId: string }) => {
    const json = JSON.stringify(body);
    let last = '';
    for (let attempt = 0; attempt < 6; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      const res = await http
        .post(path, json, { headers: { 'content-type': 'application/json', accept: 'application/json, text/plain' } })
        .then((r) => ({ status: r.status, text: r.text() }))
        .catch((e: AigcError) => ({ status: -1, text: e.details ?? e.shortMessage }));
      if (res.status >= 200 && res.status < 300) return;
      last = `${res.status} ${res.text}`.slice(0, 300);
      if (refusable && res.status === 400) {
        const reason = refusalReason(res.text);
        if (reason === 'anchor') anchor.clear(); // the next signature asks the gateway for a fresh one
        throw new ArweaveRefusedError(refusable.txId, reason, last);
      }
    }
    throw new AigcError('ARWEAVE_FAILED', `upload of ${what} to ${url} failed: ${last}`, { retryable: true });
  };
  // arweave-js signs on the event loop and converts the JWK to PEM for every signature; the key is converted once
  // here and RSA-PSS (4096-bit, ~5 ms) runs on libuv's thread pool.
  const privateKey = crypto.createPrivateKey({ key: jwk as unknown as crypto.JsonWebKey, format: 'jwk' });
  const sign = async (tx: Transaction) => {
    tx.setOwner(jwk.n);
    const message = await tx.getSignatureData();
    const signature = await new Promise<Buffer>((resolve, reject) =>
      crypto.sign('sha256', message, { key: privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING }, (error, out) =>
        error ? reject(error) : resolve(out),
      ),
    );
    tx.setSignature({
      id: crypto.createHash('sha256').update(signature).digest('base64url'),
      owner: jwk.n,
      signature: signature.toString('base64url'),
    });
  };
  // An anchor stays valid for 50 blocks (~100 min on Arweave, but 50 s on an arlocal mining every second) and
  // prices move slowly: reusing both saves two gateway round trips per transaction. The anchor is kept well
  // inside the shortest window, and dropped when the gateway refuses it.
  const anchor = memoize(anchorTtlMs, () => arweave.transactions.getTransactionAnchor());
  const priceOfChunks = new Map<number, () => Promise<string>>();
  /** The price of `bytes`, asked for whole 256 KiB chunks so one answer serves every size up to it. */
  const price = (bytes: number) => {
    const size = pricedSize(bytes);
    if (!priceOfChunks.has(size))
      priceOfChunks.set(
        size,
        memoize(60_000, () => arweave.transactions.getPrice(size)),
      );
    return priceOfChunks.get(size)!();
  };
  // Our own send loop: arweave-js's chunk uploader posts one chunk at a time and sleeps 40 s after any error, which
  // would stall a pipeline. Here CHUNK_UPLOADS chunks are in flight (nodes place a chunk by the offset its proof
  // carries, so order does not matter), a chunk is retried within seconds, and a lasting failure surfaces so the
  // queue can retry the job.
  const postChunks = async (tx: Transaction, data: Uint8Array) => {
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < tx.chunks!.chunks.length; i = next++) await post(`${tx.id} chunk ${i}`, 'chunk', chunkBody(tx, i, data));
    };
    await Promise.all(Array.from({ length: Math.min(await chunkLanes(), tx.chunks!.chunks.length) }, lane));
  };
  // Stock arlocal stores chunks in order of arrival, so parallel chunks scramble the data: one lane there.
  const chunkLanes = memoize(3_600_000, async () => ((await placesChunksByOffset(http)) ? CHUNK_UPLOADS : 1));
  /** Posts a signed transaction: the data in the header when it fits one chunk, else header then chunks. */
  const postTx = async (tx: Transaction, data: Uint8Array) => {
    const inBody = tx.chunks!.chunks.length <= 1;
    await post(`${tx.id} header`, 'tx', { ...headerOf(tx), data: inBody ? b64url(data) : '' }, { txId: tx.id });
    if (!inBody) await postChunks(tx, data);
  };
  const prepare: ArweaveStore['prepare'] = async (data, tags, options) => {
    const [last_tx, reward] = await Promise.all([anchor(), price(data.length)]);
    const tx = await arweave.createTransaction({ data, last_tx, reward }, jwk);
    for (const [name, value] of Object.entries(tags)) tx.addTag(name, value);
    await sign(tx);
    await journal?.record(headerOf(tx), data, options);
    return {
      id: tx.id,
      send: async () => {
        await postTx(tx, data);
        return tx.id;
      },
    };
  };
  return {
    address,
    prepare,
    async upload(data, tags) {
      // Nobody knows the id before this returns, so a transaction refused for its anchor is simply signed again.
      let replaces: string | undefined;
      for (let attempt = 1; ; attempt++) {
        const tx = await prepare(data, tags, { replaces });
        try {
          return await tx.send();
        } catch (error) {
          if (!isAnchorRefusal(error) || attempt >= ANCHOR_RESIGNS) throw error;
          replaces = tx.id;
        }
      }
    },
    async resume(id, data) {
      const res = await http.get(`tx/${id}`);
      if (!res.ok && res.status !== 404)
        throw new AigcError('ARWEAVE_FAILED', `gateway ${url} answered ${res.status} for tx ${id}`, { retryable: true });
      // Known to the gateway, or signed here and never received (then its header comes from the journal).
      const header = res.ok ? res.json<SignedHeader>() : await journal?.header(id);
      if (!header) return false;
      const tx = new Transaction(header as unknown as ConstructorParameters<typeof Transaction>[0]);
      await tx.prepareChunks(data);
      if (tx.data_root !== header.data_root) {
        // Other bytes (a backend that is not deterministic): the caller signs a new transaction for them.
        await journal?.forget(id);
        return false;
      }
      if (!res.ok) await postTx(tx, data);
      else if (tx.chunks!.chunks.length > 1) await postChunks(tx, data);
      return true;
    },
    async status(id) {
      const res = await http.get(`tx/${id}/status`);
      if (res.status === 404) return { state: 'not-found' };
      if (!res.ok)
        throw new AigcError('ARWEAVE_FAILED', `gateway ${url} answered ${res.status} for the status of ${id}`, { retryable: true });
      // Nodes answer 202 "Pending" while the transaction waits in the mempool (arlocal: 200 "Pending").
      const text = res.text();
      if (res.status === 202 || !text.trimStart().startsWith('{')) return { state: 'pending' };
      const body = JSON.parse(text) as { number_of_confirmations?: number };
      return { state: 'confirmed', confirmations: Number(body.number_of_confirmations ?? 0) };
    },
    async repost(header, data) {
      const tx = new Transaction(header as unknown as ConstructorParameters<typeof Transaction>[0]);
      await tx.prepareChunks(data);
      if (tx.data_root !== header.data_root)
        throw new AigcError('ARWEAVE_FAILED', `the bytes kept for ${header.id} do not match its signed data root`);
      await postTx(tx, data);
    },
    async download(id) {
      try {
        // The gateway's data route first (one request). For a transaction its length is checked against the
        // header's data_size, because some gateways (arlocal) truncate large data there; an ANS-104 data item has
        // no header (404) and is only served there. Then arweave-js's chunk reader.
        const [meta, raw] = await Promise.all([http.get(`tx/${id}`), http.get(id)]);
        if (raw.ok) {
          const bytes = new Uint8Array(raw.body);
          if (meta.status === 404) return bytes;
          if (meta.ok && bytes.length === Number(meta.json<{ data_size?: string }>().data_size)) return bytes;
        }
        if (meta.status === 404) throw new Error(`${id} not found (a data item in a bundle appears once the gateway has indexed it)`);
        const data = await arweave.transactions.getData(id, { decode: true });
        // arweave-js returns a Uint8Array, or an ArrayBuffer when it falls back to the gateway's cache.
        return typeof data === 'string' ? Buffer.from(data) : new Uint8Array(data as unknown as ArrayBuffer);
      } catch (cause) {
        throw new AigcError('ARWEAVE_FAILED', `cannot fetch ${id} from ${url}`, { cause, retryable: true, details: String(cause) });
      }
    },
  };
}

/**
 * Marker in `GET /info` of a gateway that places each chunk by the offset in its proof although its `network` is
 * arlocal's: the project's patched arlocal (`aigc arlocal`, the embedded stack) sets it.
 */
export const CHUNK_PLACEMENT_MARKER = { chunk_placement: 'offset' } as const;

/**
 * Whether the gateway takes a transaction's chunks in any order: Arweave nodes and gateways do; stock arlocal
 * (`network: "arlocal.N.1"`) does not, unless it carries {@link CHUNK_PLACEMENT_MARKER}. An unanswered `/info`
 * throws, so the answer is asked again next time.
 */
export async function placesChunksByOffset(http: Pick<HttpClient, 'get'>): Promise<boolean> {
  const res = await http.get('info');
  if (!res.ok) throw new AigcError('ARWEAVE_FAILED', `the Arweave gateway answered HTTP ${res.status} to GET /info`, { retryable: true });
  const info = res.json<{ network?: string; chunk_placement?: string }>();
  return !String(info.network ?? '').startsWith('arlocal') || info.chunk_placement === CHUNK_PLACEMENT_MARKER.chunk_placement;
}

/** Arweave's data chunk: the network stores, and charges for, whole chunks. */
// Node's own base64url: arweave-js encodes with a JavaScript base64 library, ~10x slower on megabytes of chunks.
const b64url = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/** A signed transaction's header, without encoding its data. */
function headerOf(tx: Transaction): SignedHeader {
  const data = tx.data;
  tx.data = new Uint8Array(0);
  try {
    return tx.toJSON();
  } finally {
    tx.data = data;
  }
}

/** The body of `POST /chunk` for chunk `i` of `tx`. */
function chunkBody(tx: Transaction, i: number, data: Uint8Array) {
  const chunk = tx.chunks!.chunks[i];
  const proof = tx.chunks!.proofs[i];
  return {
    data_root: tx.data_root,
    data_size: tx.data_size,
    data_path: b64url(proof.proof),
    offset: proof.offset.toString(),
    chunk: b64url(data.subarray(chunk.minByteRange, chunk.maxByteRange)),
  };
}

export const CHUNK_SIZE = 256 * 1024;

/** Chunks of one transaction posted at once. */
const CHUNK_UPLOADS = 4;

/** Signatures of the same data in a row when each is refused for its anchor (then the job's retry goes on). */
export const ANCHOR_RESIGNS = 3;

/**
 * The size whose price the uploader asks for `bytes` of data: whole 256 KiB chunks (what arweave.net charges for
 * anyway), so one cached price serves every size up to it.
 *
 * @example
 * pricedSize(300_000); // 524288: two chunks
 */
export function pricedSize(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / CHUNK_SIZE)) * CHUNK_SIZE;
}

/** `load()`'s result, fetched again once older than `ttlMs` or after `clear()`; a failed load is not kept. */
function memoize<T>(ttlMs: number, load: () => Promise<T>): (() => Promise<T>) & { clear(): void } {
  let value: Promise<T> | undefined;
  let at = 0;
  const get = () => {
    if (!value || Date.now() - at > ttlMs) {
      at = Date.now();
      const loading = load();
      value = loading;
      loading.catch(() => {
        if (value === loading) value = undefined;
      });
    }
    return value;
  };
  return Object.assign(get, {
    clear() {
      value = undefined;
    },
  });
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
