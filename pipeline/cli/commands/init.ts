import type { Command } from 'commander';
import type { InitCommandOptions } from '../init';
import { examples } from './options';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('scaffold a collection folder: collection.json (+ its JSON Schema), .env.example, README, embed snippet')
    .argument('<dir>', 'folder to create (must be missing or empty, unless --force)')
    .option('--template <name|path>', 'template under templates/collections (open-prompt, avatar, daily-drop) or a collection.json path')
    .option('--name <name>', 'collection name')
    .option('--symbol <symbol>', 'token symbol: 1-11 upper-case letters or digits')
    .option('--price <ether>', 'mint price in ETH, e.g. 0.01 (written as mint.priceWei)')
    .option('--supply <n>', 'maximum number of tokens (mint.maxSupply)')
    .option('--royalty <percent>', 'royalty in percent, e.g. 5 or 2.5, at most 10 (written as royalty.bps)')
    .option('-y, --yes', 'ask nothing: take the template values for anything not given (always so without a TTY)')
    .option('--force', 'write into a non-empty folder (overwrites only the files init writes)')
    .option('--json', 'print { dir, files } as JSON (asks nothing)')
    .addHelpText(
      'after',
      examples(
        'aigc init my-collection',
        'aigc init avatars --template avatar --name "Moon Faces" --symbol MOON --price 0.02 --supply 500 --royalty 5 --yes',
        'aigc init my-collection --yes --json',
      ),
    )
    .action(async (dir: string, opts: InitCommandOptions) => {
      const { initCommand } = await import('../init');
      await initCommand(dir, opts);
    });
}
