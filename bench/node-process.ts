import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cpuMs } from './pipeline';

/** The compiled `aigc` CLI: beside this file under dist/, or in the checkout's dist/ when this runs from source (ts-jest). */
export function compiledCli(): string {
  const beside = path.join(__dirname, '..', 'pipeline', 'cli', 'index.js');
  if (fs.existsSync(beside)) return beside;
  const built = path.resolve(__dirname, '..', 'dist', 'pipeline', 'cli', 'index.js');
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
  return built;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** `aigc node` as a child process on a fixed HTTP port, which can be killed and started again on the same port. */
export type NodeProcess = {
  /** The node's HTTP address (the same across restarts, as behind a supervisor). */
  url: string;
  /** Where every process's stdout and stderr go (appended). */
  logPath: string;
  /** Processes started so far, the first included. */
  starts: number;
  /** User + system CPU of every process started so far (a killed one's as read just before its kill). */
  cpuMs(): number;
  /** SIGKILL: no drain, no cleanup, as a host dying or an OOM kill. Resolves when the process is gone. */
  kill(): Promise<Exit>;
  /** Starts a new process; resolves once its HTTP server answers `/healthz` (the node has started in full). */
  start(): Promise<void>;
  /** SIGTERM (a graceful stop) and its exit. */
  stop(): Promise<Exit>;
  /** Set when a process exited that this handle did not kill or stop. */
  unexpectedExit?: string;
};

const exited = (child: ChildProcess) =>
  new Promise<Exit>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

/**
 * Starts `aigc node` with `env` (its settings) and `AIGC_HTTP_PORT=port`, and waits until it serves HTTP.
 *
 * @example
 * const node = await startNodeProcess({ env: fixture.env(), port: await freePort(), logPath: 'node.log' });
 * await node.kill(); await node.start(); await node.stop();
 */
export async function startNodeProcess({
  env,
  port,
  logPath,
  cli = compiledCli(),
  readyTimeoutMs = 60_000,
}: {
  env: Record<string, string>;
  port: number;
  logPath: string;
  cli?: string;
  readyTimeoutMs?: number;
}): Promise<NodeProcess> {
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let deadCpuMs = 0;
  let expected = false; // the current process is being killed or stopped by this handle
  // If this process dies first, take the node with it.
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const handle: NodeProcess = {
    url,
    logPath,
    starts: 0,
    cpuMs: () => deadCpuMs + cpuMs(child?.pid),
    async kill() {
      if (!child) throw new Error('no node process to kill');
      expected = true;
      deadCpuMs += cpuMs(child.pid);
      child.kill('SIGKILL');
      const exit = await exited(child);
      child = undefined;
      return exit;
    },
    async start() {
      if (child) throw new Error('the node process is still running: kill or stop it first');
      const log = fs.openSync(logPath, 'a');
      const proc = spawn(process.execPath, [cli, 'node'], {
        env: { ...process.env, ...env, AIGC_HTTP_PORT: String(port), AIGC_HTTP_HOST: '127.0.0.1' },
        stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
      child = proc;
      expected = false;
      handle.starts++;
      proc.once('exit', (code, signal) => {
        if (!expected && child === proc)
          handle.unexpectedExit ??= `node process ${proc.pid} exited (code ${code}, signal ${signal}): see ${logPath}`;
      });
      const deadline = Date.now() + readyTimeoutMs;
      for (;;) {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          const tail = fs.readFileSync(logPath, 'utf8').slice(-2_000);
          throw new Error(`node process exited during start-up (code ${proc.exitCode}): ${tail}`);
        }
        const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
          .then((res) => res.ok)
          .catch(() => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`node process did not serve ${url}/healthz within ${readyTimeoutMs} ms: see ${logPath}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      process.off('exit', killOnExit);
      if (!child) return { code: null, signal: null };
      expected = true;
      deadCpuMs += cpuMs(child.pid);
      child.kill('SIGTERM');
      const exit = await exited(child);
      child = undefined;
      return exit;
    },
  };
  await handle.start();
  return handle;
}
