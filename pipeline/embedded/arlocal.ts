import fs from 'node:fs';
import ArLocal from 'arlocal';
import { freePort, waitFor } from './ports';

export type ArlocalHandle = {
  url: string;
  /** Mines pending transactions now (a background timer also mines every `mineIntervalMs`). */
  mine(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Runs arlocal, a local Arweave gateway, inside this process, with its database under `dbPath`, and mines
 * blocks on a timer so uploads confirm like on a real network.
 */
export async function startArlocal({ dbPath, mineIntervalMs = 1_000 }: { dbPath: string; mineIntervalMs?: number }): Promise<ArlocalHandle> {
  fs.mkdirSync(dbPath, { recursive: true });
  const port = await freePort();
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
