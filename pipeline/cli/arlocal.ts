import net from 'node:net';
import path from 'node:path';
import { startArlocal } from '../embedded/arlocal';
import { AigcError } from '../errors';
import { jsonLine } from './output';

export type ArlocalCommandOptions = { port: number; dataDir: string; mineInterval: number; json?: boolean };

/** `aigc arlocal`: the embedded (patched) arlocal as a standalone gateway, until SIGINT or SIGTERM. */
export async function arlocalCommand(opts: ArlocalCommandOptions): Promise<void> {
  if (opts.port && !(await portFree(opts.port)))
    throw new AigcError('ARWEAVE_FAILED', `port ${opts.port} is taken: stop what listens there or pass --port <n>`);
  const dbPath = path.resolve(opts.dataDir);
  const arlocal = await startArlocal({ dbPath, port: opts.port || undefined, mineIntervalMs: opts.mineInterval });
  if (opts.json) console.log(jsonLine({ url: arlocal.url, dataDir: dbPath }));
  else console.log(`arlocal (patched) at ${arlocal.url}, data in ${dbPath}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await arlocal.stop();
}

/** Whether nothing listens on 127.0.0.1:`port` (arlocal's own error for a taken port is a stack trace). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
