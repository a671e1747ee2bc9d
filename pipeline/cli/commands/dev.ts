import type { Command } from 'commander';
import type { DevCommandOptions } from '../dev';
import { examples, portNumber } from './options';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description("run this folder's collection on a local stack (anvil, arlocal, Redis, gateway, node) until Ctrl-C")
    .option('--port <n>', "port of the node's HTTP API (0 = a free port)", portNumber, 0)
    .option('--json', 'print the stack (the contents of .aigc/dev.json) as one JSON line once it is up')
    .addHelpText(
      'after',
      examples('cd my-collection && aigc dev', 'aigc dev --port 9464', 'aigc dev --json > stack.json &') +
        '\n\nWrites .aigc/dev.json (RPC, chain id, collection, Arweave, gateway and node URLs, funded test accounts);' +
        '\naigc mint, verify, status and admin run in this folder use it. Editing collection.json redeploys.' +
        '\nExit codes: 0 stopped by Ctrl-C or SIGTERM; 2 no or invalid collection.json; 3 a local service could not start.',
    )
    .action(async (opts: DevCommandOptions) => {
      const { devCommand } = await import('../dev');
      await devCommand(opts);
    });
}
