import fs from 'node:fs';
import ArLocal from 'arlocal';
import { ChunkDB } from 'arlocal/bin/db/chunks';
import { TransactionDB } from 'arlocal/bin/db/transaction';
import * as encoding from 'arlocal/bin/utils/encoding';
import { CHUNK_SIZE } from '../storage/arweave';
import { freePort, waitFor } from './ports';

export type ArlocalHandle = {
  url: string;
  /** Mines pending transactions now (a background timer also mines every `mineIntervalMs`). */
  mine(): Promise<void>;
  stop(): Promise<void>;
};

/** The slice of knex (arlocal's query builder) the patches below use. */
type Query = PromiseLike<unknown[]> & {
  where(match: object): Query;
  orderBy(column: string, direction: string): Query;
  first(column: string): Promise<{ offset?: number } | undefined>;
  countDistinct(columns: Record<string, string>): Promise<unknown[]>;
};
type Knex = (table: string) => Query;

/**
 * arlocal finds the end of its chunk store by loading every stored chunk, data included, on every chunk upload,
 * so uploads slow down linearly with what was stored (~1 s per upload after 200 images). Replace that query with
 * a one-row lookup; `startArlocal` also indexes the column.
 */
function patchChunkOffsetLookup(): void {
  const proto = ChunkDB.prototype as unknown as { getLastChunkOffset(): Promise<number>; connection: Knex; __aigcPatched?: boolean };
  if (proto.__aigcPatched) return;
  proto.getLastChunkOffset = async function (this: { connection: Knex }) {
    const last = await this.connection('chunks').orderBy('offset', 'desc').first('offset');
    return last?.offset ?? 0;
  };
  proto.__aigcPatched = true;
}

/**
 * When a bundle's header arrives without its data, arlocal's /tx route starts a loop of its own that re-reads the
 * bundle's chunks without pause until they look complete, then unbundles. Mining unbundles the same bundle too (see
 * `patchMiningOfIncompleteUploads`): the two race on inserts, the loop keeps the event loop busy for the whole
 * upload, never ends for an upload cut short (a killed node), and throws once the database is closed. Leave
 * unbundling to mining: for that loop, the chunk read never returns.
 */
function patchBundleWaitLoop(): void {
  const proto = ChunkDB.prototype as unknown as { getRoot(root: string): Promise<unknown>; __aigcPaced?: boolean };
  if (proto.__aigcPaced) return;
  const { getRoot } = proto;
  proto.getRoot = function (root: string) {
    if (new Error().stack?.includes('routes/transaction')) return new Promise(() => {});
    return getRoot.call(this, root);
  };
  proto.__aigcPaced = true;
}

/**
 * arlocal converts every chunk between base64url and bytes with a JavaScript base64 library, and decodes fields
 * through string rewrites; Node's own codec is ~10x faster on 256 KiB chunks. Same results, so swap it in.
 */
function patchBase64(): void {
  const codec = encoding as unknown as Record<string, unknown> & { __aigcNative?: boolean };
  if (codec.__aigcNative) return;
  codec.b64UrlToBuffer = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'));
  codec.bufferTob64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  codec.bufferTob64Url = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  // Mining decodes every tag and field of every transaction with this one (three regex passes and a copy).
  codec.fromB64Url = (text: string) => Buffer.from(text, 'base64url');
  // Mining and the data route drop duplicate chunks by hashing each chunk once, then again for every lookup
  // (n²/2 hashes of 350 KB strings per bundle). Remember the last few answers; a chunk is the same string object
  // in both passes, so the lookup is a pointer comparison.
  const recent: { text: unknown; hex: string }[] = [];
  const sha256Hex = codec.sha256Hex as (data: unknown) => string;
  codec.sha256Hex = (data: unknown) => {
    const hit = recent.find((r) => r.text === data);
    if (hit) return hit.hex;
    const hex = sha256Hex(data);
    if (typeof data === 'string') {
      recent.unshift({ text: data, hex });
      if (recent.length > 64) recent.pop();
    }
    return hex;
  };
  codec.__aigcNative = true;
}

/**
 * arlocal indexes the items of an ANS-104 bundle uploaded in chunks when it mines the bundle: it unbundles the
 * transactions it lists at the start of a mine, then marks every unmined transaction as mined. A bundle whose
 * chunks are still arriving, or that arrived during the mine, is mined without its items ever being indexed.
 * Hold such transactions back: a mine only includes what it listed, and lists only complete uploads.
 */
function patchMiningOfIncompleteUploads(): void {
  type Row = { id: string; bundledIn?: string; data_root?: string; data_size: string };
  const proto = TransactionDB.prototype as unknown as {
    connection: Knex;
    getUnminedTxsRaw(): Promise<Row[]>;
    mineTxs(block: string, held: string[]): Promise<unknown>;
    __aigcPatched?: boolean;
  };
  if (proto.__aigcPatched) return;
  const complete = async (connection: Knex, row: Row) => {
    const size = Number(row.data_size);
    if (!row.data_root || !size) return true; // no data, or data in the body (arlocal chunks it at once)
    const [{ n }] = (await connection('chunks').where({ data_root: row.data_root }).countDistinct({ n: 'data_path' })) as { n: number }[];
    return Number(n) >= Math.ceil(size / CHUNK_SIZE);
  };
  let listed = new Set<string>();
  const { getUnminedTxsRaw, mineTxs } = proto;
  proto.getUnminedTxsRaw = async function () {
    const rows: Row[] = [];
    for (const row of await getUnminedTxsRaw.call(this)) if (row.bundledIn || (await complete(this.connection, row))) rows.push(row);
    listed = new Set(rows.map((r) => r.id));
    return rows;
  };
  proto.mineTxs = async function (block, held) {
    // Data items inserted by this mine's unbundling are mined with their bundle; other new arrivals wait.
    const rows = (await this.connection('transactions').where({ block: '' })) as unknown as Row[];
    const late = rows.filter((r) => !r.bundledIn && !listed.has(r.id)).map((r) => r.id);
    return mineTxs.call(this, block, [...held, ...late]);
  };
  proto.__aigcPatched = true;
}

/**
 * Runs arlocal, a local Arweave gateway, inside this process, with its database under `dbPath`, and mines
 * blocks on a timer so uploads confirm like on a real network.
 */
export async function startArlocal({ dbPath, port: wanted, mineIntervalMs = 1_000 }: { dbPath: string; port?: number; mineIntervalMs?: number }): Promise<ArlocalHandle> {
  fs.mkdirSync(dbPath, { recursive: true });
  const port = wanted ?? (await freePort());
  patchChunkOffsetLookup();
  patchBundleWaitLoop();
  patchBase64();
  patchMiningOfIncompleteUploads();
  const arlocal = new ArLocal(port, false, dbPath, true);
  // arlocal appends every request to ./logs in the working directory; keep the user's folder clean.
  (arlocal as unknown as { log: { logInFile(args: unknown): void } }).log.logInFile = () => {};
  // arlocal prints a start banner unconditionally; keep our own output clean.
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].startsWith('arlocal started'))) log(...args);
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await arlocal.start();
    await waitFor(async () => (await fetch(`${url}/info`)).ok, 10_000);
    const db = (arlocal as unknown as { connection: { raw(sql: string): Promise<unknown> } }).connection;
    await db.raw('CREATE INDEX IF NOT EXISTS chunks_offset ON chunks (offset)');
  } finally {
    console.log = log;
  }
  // One mine at a time: two overlapping mines unbundle the same bundle twice and trip over each other's inserts.
  let mining: Promise<void> = Promise.resolve();
  const mine = () =>
    (mining = mining.then(async () => {
      await fetch(`${url}/mine`).catch(() => undefined);
    }));
  const timer = setInterval(() => void mine(), mineIntervalMs);
  timer.unref();
  return {
    url,
    mine,
    async stop() {
      clearInterval(timer);
      await arlocal.stop();
    },
  };
}
