import { fork, type ChildProcess } from 'node:child_process';
import { createGateway } from '../services/diffusion-gateway/app';
import { createAutomatic1111Backend } from '../services/diffusion-gateway/backends/automatic1111';
import { startAutomatic1111Server } from '../test/servers/automatic1111';

/**
 * Child-process roles of the gateway benchmark, so the load generator, the gateway and the backend don't share
 * one event loop (which would charge the backend's and the client's work to the gateway).
 */
export type Role = { role: 'backend'; delayMs: number } | { role: 'gateway'; backendUrl: string; concurrency: number };

/** Starts `role` in a child process and resolves with its URL. */
export function spawnRole(role: Role): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(__filename, [JSON.stringify(role)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (url) => resolve({ url: String(url), child }));
    child.once('exit', (code) => reject(new Error(`${role.role} process exited with ${code}`)));
  });
}

async function runRole(role: Role): Promise<void> {
  if (role.role === 'backend') {
    const server = await startAutomatic1111Server();
    server.faults.delayMs = role.delayMs;
    process.send!(server.url);
    return;
  }
  const gateway = createGateway({
    backend: createAutomatic1111Backend({ url: role.backendUrl }),
    limits: { concurrency: role.concurrency, timeoutMs: 30_000 },
  });
  const server = await gateway.listen(0, '127.0.0.1');
  process.send!(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
}

if (require.main === module) {
  void runRole(JSON.parse(process.argv[2]) as Role);
  process.on('disconnect', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}
