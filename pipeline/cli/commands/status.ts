import type { Command } from 'commander';
import type { StatusCommandOptions } from '../status';
import { address, blockNumber, examples, targetOptions } from './options';

export function registerStatus(program: Command): void {
  targetOptions(
    program
      .command('status')
      .description(
        "a collection's state on chain (settings, supply, open requests, signer balance and earnings) and its node's (queue depths, leader, last processed block)",
      ),
    { node: true },
  )
    .option('--signer <address>', "the signer to show (default: the node's, else the one in deployments/)", address)
    .option(
      '--from-block <n>',
      'first block to count open requests from (default: the collection’s creation block when known)',
      blockNumber,
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      examples(
        'aigc status                                  # inside a collection folder (deployments/ or aigc dev)',
        'aigc status --collection 0x… --rpc https://mainnet.base.org --node https://node.example --json',
        'aigc status --signer 0x… --from-block 12345678',
      ) +
        '\n\nExit codes: 0 read; 1 the chain, or the node when one is given, could not be read (the chain part is printed first); 2 bad input.',
    )
    .action(async (opts: StatusCommandOptions) => {
      const { statusCommand } = await import('../status');
      await statusCommand(opts);
    });
}
