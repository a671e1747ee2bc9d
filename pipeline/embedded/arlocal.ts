import fs from 'node:fs';
import { createRequire } from 'node:module';
import ArLocal from 'arlocal';
import { ChunkDB } from 'arlocal/bin/db/chunks';
import * as chunkRoutes from 'arlocal/bin/routes/chunk';
import * as txMiddlewares from 'arlocal/bin/middlewares/transaction';
import { TransactionDB } from 'arlocal/bin/db/transaction';
import * as encoding from 'arlocal/bin/utils/encoding';
import { CHUNK_PLACEMENT_MARKER, CHUNK_SIZE } from '../storage/arweave';
import { freePort, waitFor } from './ports';

export type ArlocalHandle = {
  url: string;
  /** Mines pending transactions now, in the last of `blocks` new blocks (a background timer also mines every `mineIntervalMs`). */
  mine(blocks?: number): Promise<void>;
  stop(): Promise<void>;
};

/** The slice of knex (arlocal's query builder) the patches below use. */
type Query = PromiseLike<unknown[]> & {
  where(match: object): Query;
  whereIn(column: string, values: string[]): Query;
  select(...columns: string[]): Query;
  update(values: object): Promise<number>;
  orderBy(column: string, direction: string): Query;
  limit(n: number): Query;
  first(column: string): Promise<{ offset?: number } | undefined>;
  countDistinct(columns: Record<string, string>): Promise<unknown[]>;
};
type Knex = (table: string) => Query;

/**
 * arlocal finds the end of its chunk store by loading every stored chunk, data included, for every upload with
 * its data inline (and, before `patchChunkPlacement`, every chunk upload), so uploads slowed down linearly with
 * what was stored (~1 s per upload after 200 images). Replace that query with a one-row lookup; `startArlocal` also
 * indexes the column.
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
 * arlocal gives each chunk the next free place in its store in order of arrival, and reads a transaction's data
 * back in that order, so chunks must arrive in order. Arweave nodes place a chunk by its own offset in the
 * transaction (its Merkle proof ends with it), which lets uploaders post chunks in parallel. Do the same: the first
 * chunk of a transaction reserves a range for all of it, and every chunk goes to range start + its offset. The
 * stored number is arlocal's own (start + 1, never 0), so its `/tx/{id}/offset` and `/chunk/{offset}` routes
 * still walk a transaction chunk by chunk.
 */
function patchChunkPlacement(): void {
  type Chunk = { chunk: string; data_root: string; data_size: number | string; offset: number; data_path: string };
  const proto = ChunkDB.prototype as unknown as {
    connection: Knex;
    create(chunk: Chunk): Promise<unknown>;
    getByRootAndSize(root: string, size: number): Promise<Chunk | undefined>;
    __aigcPlaced?: boolean;
  };
  if (proto.__aigcPlaced) return;
  const { create } = proto;
  /** Where each transaction's range starts, by data root and size. */
  const starts = new Map<string, Promise<number>>();
  let free: number | undefined;
  let counted: Promise<void> | undefined;
  /** Reserves `size` bytes past everything stored (chunks are at most CHUNK_SIZE long). */
  const reserve = async (connection: Knex, size: number) => {
    counted ??= connection('chunks')
      .orderBy('offset', 'desc')
      .first('offset')
      .then((last) => void (free = last?.offset ? last.offset + CHUNK_SIZE : 0));
    await counted;
    const at = free!; // read and moved in one synchronous step: concurrent reservations never overlap
    free = at + size;
    return at;
  };
  /** The chunk's start within its transaction: the proof's last 32 bytes are the chunk's end offset. */
  const startInTx = (c: Chunk) => {
    const proof = Buffer.from(c.data_path, 'base64url');
    const end = Number(BigInt(`0x${proof.subarray(proof.length - 32).toString('hex')}`));
    return end - Buffer.byteLength(c.chunk, 'base64url');
  };
  const rangeStart = (connection: Knex, c: Chunk): Promise<number> => {
    const key = `${c.data_root}:${c.data_size}`;
    let start = starts.get(key);
    if (!start) {
      start = (async () => {
        const known = (await connection('chunks').where({ data_root: c.data_root, data_size: c.data_size }).first('*')) as unknown as
          Chunk | undefined;
        if (known) return known.offset - 1 - startInTx(known); // stored before a restart
        return reserve(connection, Number(c.data_size));
      })();
      starts.set(key, start);
    }
    return start;
  };
  proto.create = async function (this: { connection: Knex }, c: Chunk) {
    return create.call(this, { ...c, offset: (await rangeStart(this.connection, c)) + startInTx(c) + 1 });
  };
  // arlocal's chunk route reads the last stored chunk, data included, to work out an offset that `create` now
  // sets itself: store the chunk straight away.
  (chunkRoutes as unknown as Record<string, unknown>).postChunkRoute = async (ctx: {
    connection: Knex;
    request: { body: Chunk };
    body: unknown;
    status: number;
  }) => {
    const c = ctx.request.body;
    if (![c?.chunk, c?.data_path, c?.data_root].every((f) => typeof f === 'string') || !Number(c.data_size)) {
      ctx.status = 400;
      ctx.body = { error: 'a chunk needs chunk, data_path, data_root and data_size' };
      return;
    }
    await new ChunkDB(ctx.connection as never).create(c);
    ctx.body = {};
  };
  // The first chunk of the transaction, whatever arrived first (`/tx/{id}/offset` counts from it).
  proto.getByRootAndSize = async function (this: { connection: Knex }, root: string, size: number) {
    return (await this.connection('chunks').where({ data_root: root, data_size: size }).orderBy('offset', 'asc').first('*')) as unknown as
      Chunk | undefined;
  };
  proto.__aigcPlaced = true;
}

/**
 * When a bundle's header arrives without its data, arlocal's /tx route starts a loop of its own that re-reads the
 * bundle's chunks without pause until they look complete, then unbundles. Mining unbundles the same bundle too (see
 * `patchMiningOfIncompleteUploads`): the two race on inserts, the loop keeps the event loop busy for the whole
 * upload, never ends for an upload cut short (a killed node), and throws once the database is closed. Leave
 * unbundling to mining: for that loop, the chunk read never returns.
 *
 * arlocal's chunk read also answers "no chunks" when the query fails (it logs the error and returns nothing): a
 * mine then took a bundle for one without data and mined it without indexing its items, for good (seen with
 * `KnexTimeoutError` under load). Let the error through: the mine fails and the next one unbundles the bundle.
 */
function patchBundleWaitLoop(): void {
  const proto = ChunkDB.prototype as unknown as { connection: Knex; getRoot(root: string): Promise<unknown>; __aigcPaced?: boolean };
  if (proto.__aigcPaced) return;
  proto.getRoot = async function (this: { connection: Knex }, root: string) {
    if (new Error().stack?.includes('routes/transaction')) return new Promise(() => {});
    return await this.connection('chunks').where({ data_root: root });
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
  // arbundles encodes every unbundled item's data to base64url with the `base64url` package (three regex passes
  // over the whole string); same output from Node's codec.
  const lib = createRequire(require.resolve('arbundles'))('base64url') as { default: Record<string, unknown> };
  lib.default.encode = (input: Buffer | string, encoding: BufferEncoding = 'utf8') =>
    (Buffer.isBuffer(input) ? input : Buffer.from(input, encoding)).toString('base64url');
  lib.default.toBuffer = (text: string) => Buffer.from(String(text), 'base64url');
  codec.__aigcNative = true;
}

/**
 * arlocal indexes the items of an ANS-104 bundle uploaded in chunks when it mines the bundle: it unbundles the
 * transactions it lists at the start of a mine, then marks every unmined transaction as mined. A bundle whose
 * chunks are still arriving, or that arrived during the mine, is mined without its items ever being indexed.
 * Hold such transactions back: a mine lists only complete uploads, and marks as mined exactly what it listed
 * and the items it unbundled from them, by id. (Marking "every unmined transaction except the late ones" left a
 * window between finding the late ones and the update: a bundle header posted in it was mined before its chunks
 * arrived and its items were never indexed.)
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
  const { getUnminedTxsRaw } = proto;
  proto.getUnminedTxsRaw = async function () {
    const rows: Row[] = [];
    for (const row of await getUnminedTxsRaw.call(this)) if (row.bundledIn || (await complete(this.connection, row))) rows.push(row);
    listed = new Set(rows.map((r) => r.id));
    return rows;
  };
  /** What this mine includes: what it listed, and the data items its unbundling inserted for those bundles. */
  const included = async (connection: Knex) => {
    const rows = (await connection('transactions').where({ block: '' }).select('id', 'bundledIn')) as unknown as Row[];
    return rows.filter((r) => listed.has(r.id) || (r.bundledIn && listed.has(r.bundledIn))).map((r) => r.id);
  };
  // The ids the new block lists.
  (proto as unknown as { getUnminedTxs(): Promise<string[]> }).getUnminedTxs = async function (this: { connection: Knex }) {
    return included(this.connection);
  };
  proto.mineTxs = async function (block, held) {
    const ids = (await included(this.connection)).filter((id) => !held.includes(id));
    for (let i = 0; i < ids.length; i += 500)
      await this.connection('transactions')
        .whereIn('id', ids.slice(i, i + 500))
        .update({ block });
  };
  proto.__aigcPatched = true;
}

/**
 * arlocal refuses an invalid transaction with 400 "Bad Request" and prints the reason on its own console only.
 * Arweave nodes say why (e.g. `Invalid anchor (last_tx).`), which tells an uploader whether signing again with a
 * fresh anchor helps: answer with the reason. arlocal accepts as anchor the id of one of the last 50 blocks, or
 * the last transaction of the owner.
 */
function patchRefusalAnswer(): void {
  type Ctx = { status: number; body: unknown; request: { body?: { last_tx?: string; owner?: string } }; connection: Knex };
  const mod = txMiddlewares as unknown as {
    txValidateMiddleware: (ctx: Ctx, next: () => Promise<unknown>) => Promise<void>;
    __aigcAnswers?: boolean;
  };
  if (mod.__aigcAnswers) return;
  const validate = mod.txValidateMiddleware;
  const anchorValid = async (ctx: Ctx) => {
    const { last_tx = '', owner } = ctx.request.body ?? {};
    if (last_tx === '' || !owner) return true;
    const blocks = (await ctx.connection('blocks').orderBy('created_at', 'desc').limit(50)) as { id: string }[];
    if (blocks.some((b) => b.id === last_tx)) return true;
    const [last] = (await ctx.connection('transactions').where({ owner }).orderBy('created_at', 'desc').limit(1)) as { id: string }[];
    return last?.id === last_tx;
  };
  mod.txValidateMiddleware = async (ctx, next) => {
    await validate(ctx, next);
    if (ctx.status !== 400 || ctx.body !== 'Bad Request') return;
    ctx.body = (await anchorValid(ctx))
      ? 'Transaction verification failed.'
      : '"last_tx" is invalid: not the id of one of the last 50 blocks nor the last transaction of its owner';
  };
  mod.__aigcAnswers = true;
}

/**
 * Runs arlocal, a local Arweave gateway, inside this process, with its database under `dbPath`, and mines
 * blocks on a timer so uploads confirm like on a real network.
 */
export async function startArlocal({
  dbPath,
  port: wanted,
  mineIntervalMs = 1_000,
}: {
  dbPath: string;
  port?: number;
  mineIntervalMs?: number;
}): Promise<ArlocalHandle> {
  fs.mkdirSync(dbPath, { recursive: true });
  const port = wanted ?? (await freePort());
  patchChunkOffsetLookup();
  patchChunkPlacement();
  patchBundleWaitLoop();
  patchBase64();
  patchMiningOfIncompleteUploads();
  patchRefusalAnswer();
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
    // Tells uploaders (`placesChunksByOffset`) that this arlocal takes chunks in any order, unlike the stock one.
    Object.assign((arlocal as unknown as { app: { context: { network: object } } }).app.context.network, CHUNK_PLACEMENT_MARKER);
    await waitFor(async () => (await fetch(`${url}/info`)).ok, 10_000);
    const db = (arlocal as unknown as { connection: { raw(sql: string): Promise<unknown> } }).connection;
    await db.raw('CREATE INDEX IF NOT EXISTS chunks_offset ON chunks (offset)');
    // Every read of a transaction's chunks, and every upload with its data inline, looks chunks up by data root;
    // without an index each lookup reads the whole store, chunk data included, and uploads slow down as it grows.
    await db.raw('CREATE INDEX IF NOT EXISTS chunks_data_root ON chunks (data_root, data_size)');
    // A local test gateway needs no durability against power loss: without a sync per insert (each tag of each
    // bundled item is one), uploads no longer queue behind a mine's thousands of inserts on the one connection.
    await db.raw('PRAGMA journal_mode = WAL');
    await db.raw('PRAGMA synchronous = OFF');
    // arlocal's queries share one connection (knex's SQLite pool holds one), each waiting its turn. Under load the
    // queue of a mine's thousands of inserts behind uploads and reads grew past knex's 60 s wait for the
    // connection, and the query that timed out failed its route: wait instead, the queue always moves.
    (
      arlocal as unknown as { connection: { client: { pool: { acquireTimeoutMillis: number } } } }
    ).connection.client.pool.acquireTimeoutMillis = 600_000;
  } finally {
    console.log = log;
  }
  // One mine at a time: two overlapping mines unbundle the same bundle twice and trip over each other's inserts.
  let mining: Promise<void> = Promise.resolve();
  const mine = (blocks = 1) =>
    (mining = mining.then(async () => {
      await fetch(`${url}/mine/${blocks}`).catch(() => undefined);
    }));
  const timer = setInterval(() => void mine(), mineIntervalMs);
  timer.unref();
  return {
    url,
    mine,
    async stop() {
      clearInterval(timer);
      // A mine still running when arlocal closes its database fails with KnexTimeoutError (its pending queries are
      // aborted), which reads in the log like a mine that timed out: let it finish first.
      await mining;
      await arlocal.stop();
    },
  };
}
