import { type ChildProcess, spawn } from 'node:child_process';

const running = new Set<ChildProcess>();
let hooked = false;

/**
 * Spawns a helper process (anvil, redis-server) that must not outlive us: it is killed on stop(), and on our
 * exit or a fatal signal if stop() never ran.
 */
export function spawnOwned(command: string, args: string[]): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, stop };
}
