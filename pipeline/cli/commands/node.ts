import type { Command } from 'commander';
import type { NodeCommandOptions } from '../node';
import { examples, seconds } from './options';

export function registerNode(program: Command): void {
  program
    .command('node')
    .description('run the operator node against configured chain, Redis, gateway and Arweave')
    .option('-c, --config <file>', 'JSON config file, e.g. the node.config.json of `aigc init-node` (env vars override it)')
    .option('--workers-only', 'render only: never lead (no listener, no chain writes)')
    .option('--stop-timeout <seconds>', 'on SIGINT/SIGTERM, exit non-zero after this long if in-flight work has not finished', seconds, 8)
    .addHelpText(
      'after',
      examples(
        'aigc node --config node.config.json      # files written by `aigc init-node`',
        'AIGC_RPC_URL=http://127.0.0.1:8545 AIGC_COLLECTION=0x… AIGC_SIGNER_KEY=0x… \\\n' +
          '      AIGC_GATEWAY_URL=http://127.0.0.1:8080 AIGC_ARWEAVE_URL=http://127.0.0.1:1984 \\\n' +
          '      AIGC_ARWEAVE_WALLET=wallet.json REDIS_URL=redis://127.0.0.1:6379 aigc node',
      ) +
        '\n\nAt start the node checks Redis, the chain, the collection (code, signer authorised), the gateway (API key)' +
        '\nand the balances of the signer and the Arweave wallet, and refuses to start with one line saying what to fix.',
    )
    .action(async (opts: NodeCommandOptions) => {
      const { nodeCommand } = await import('../node');
      await nodeCommand(opts);
    });
}
