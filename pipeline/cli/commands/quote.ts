import { type Command, Option } from 'commander';
import type { QuoteCommandOptions } from '../quote';
import { address, examples, httpUrl, positiveInt } from './options';

export function registerQuote(program: Command): void {
  program
    .command('quote')
    .description('estimate the cost of minting N tokens of a template: Arweave fees and gas, per token and in total')
    .option(
      '--template <name|path>',
      'a shipped template’s name, a collection.json, or its folder (default: ./collection.json, else the shipped default)',
    )
    .option('-n, --count <n>', 'number of tokens', positiveInt, 100)
    .addOption(new Option('--format <format>', 'image format the gateway returns').choices(['png', 'webp', 'avif']).default('png'))
    .option('--image-bytes <n>', 'bytes per image, instead of measuring a sample from the procedural renderer', positiveInt)
    .option('--arweave <url>', 'Arweave gateway asked for /price (or AIGC_ARWEAVE_URL; default https://arweave.net)', httpUrl)
    .option('--rpc <url>', 'JSON-RPC endpoint for gas fees (or AIGC_RPC_URL; default http://127.0.0.1:8545)', httpUrl)
    .option(
      '--collection <address>',
      'a deployed collection: estimate requestMint gas live and read its price (its image size still comes from the template)',
      address,
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      examples(
        'aigc quote --count 500 --rpc https://mainnet.base.org',
        'aigc quote --template ./my/collection.json --image-bytes 1500000 --json',
        'aigc quote --rpc http://127.0.0.1:8545 --collection 0x… --arweave http://127.0.0.1:1984',
      ),
    )
    .action(async (opts: QuoteCommandOptions) => {
      const { quoteCommand } = await import('../quote');
      await quoteCommand(opts);
    });
}
