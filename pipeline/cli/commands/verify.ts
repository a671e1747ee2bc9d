import type { Command } from 'commander';
import type { VerifyCommandOptions } from '../verify';
import { blockNumber, examples, targetOptions, wholeNumber } from './options';

export function registerVerify(program: Command): void {
  targetOptions(
    program
      .command('verify')
      .description('check a token from public data: events, signature, manifest and image on Arweave')
      .argument('<tokenId>', 'token (= request) id', wholeNumber),
  )
    .option(
      '--from-block <n>',
      'first block to search for the token events (default: the collection’s creation block when known)',
      blockNumber,
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      examples(
        'aigc verify 3                      # inside a collection folder',
        'aigc verify 3 --collection 0x… --rpc https://rpc.example --arweave https://arweave.net',
      ) + '\n\nExit codes: 0 verified; 4 a check failed; 1 the token or the chain could not be read; 2 bad input.',
    )
    .action(async (tokenId: bigint, opts: VerifyCommandOptions) => {
      const { verifyCommand } = await import('../verify');
      await verifyCommand(tokenId, opts);
    });
}
