import type { Command } from 'commander';
import type { InitNodeOptions } from '../init-node';
import { address, examples, httpUrl } from './options';

export function registerInitNode(program: Command): void {
  program
    .command('init-node')
    .description('write the starter files of a self-hosted node: node.config.json, .env.example, compose.yaml, a systemd unit, README')
    .argument('<dir>', 'folder to write them to (created if needed)')
    .option('--rpc <url>', 'JSON-RPC endpoint of the collection’s chain', httpUrl)
    .option('--collection <address>', 'the collection the node serves', address)
    .option('--arweave <url>', 'Arweave gateway for uploads (default https://arweave.net)', httpUrl)
    .option('--template <name>', 'the collection’s template (render settings)', 'open-prompt')
    .option('-y, --yes', 'ask nothing: what flags do not give stays to fill in')
    .option('--force', 'replace files that exist')
    .option('--json', 'print {"dir", "files"} as one JSON object')
    .addHelpText(
      'after',
      examples(
        'aigc init-node my-node                                # asks for the RPC URL and the collection',
        'aigc init-node my-node --yes --rpc https://sepolia.base.org --collection 0x…',
        'aigc init-node /srv/aigc --yes --arweave http://127.0.0.1:1984',
      ) + '\n\nThen follow my-node/README.md: keys with `aigc wallet`, settings, `docker compose up -d` or the systemd unit.',
    )
    .action(async (dir: string, opts: InitNodeOptions) => {
      const { initNodeCommand } = await import('../init-node');
      await initNodeCommand(dir, opts);
    });
}
