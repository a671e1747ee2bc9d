import fs from 'node:fs';
import ArLocal from 'arlocal';
import { ChunkDB } from 'arlocal/bin/db/chunks';
import { freePort, waitFor } from './ports';

export type ArlocalHandle = {
  url: string;
  /** Mines pending transactions now (a background timer also mines every `mineIntervalMs`). */
  mine(): Promise<void>;
  stop(): Promise<void>;
};

type Knex = (table: string) => { orderBy(col: string, dir: string): { first(col: string): Promise<{ offset?: number } | undefined> } };

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
 * Runs arlocal, a local Arweave gateway, inside this process, with its database under `dbPath`, and mines
 * blocks on a timer so uploads confirm like on a real network.
 */
export async function startArlocal({ dbPath, port: wanted, mineIntervalMs = 1_000 }: { dbPath: string; port?: number; mineIntervalMs?: number }): Promise<ArlocalHandle> {
  fs.mkdirSync(dbPath, { recursive: true });
  const port = wanted ?? (await freePort());
  patchChunkOffsetLookup();
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
  const mine = async () => {
    await fetch(`${url}/mine`).catch(() => undefined);
  };
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
