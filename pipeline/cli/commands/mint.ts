import type { Command } from 'commander';
import type { MintCommandOptions } from '../mint';
import { address, examples, positiveInt, targetOptions } from './options';

export function registerMint(program: Command): void {
  targetOptions(
    program
      .command('mint')
      .description('pay for a mint of <prompt> and, with --wait, follow it to a verified token')
      .argument('<prompt>', 'what to render (the collection frames it)'),
    { node: true },
  )
    .option('--key <env:NAME|keystore:PATH>', 'the paying key (default: AIGC_MINT_KEY, else a funded account of aigc dev)')
    .option('--to <address>', 'receive the token at another address (requestMintFor)', address)
    .option('--wait', 'follow the request until it is minted, rejected or refunded')
    .option('--timeout <seconds>', 'give up waiting after this long (the request stays open on chain)', positiveInt, 600)
    .option('--out <file>', 'with --wait: save the image here')
    .option('--json', 'print one JSON object (progress is not printed)')
    .addHelpText(
      'after',
      examples(
        'aigc mint "a red fox" --wait --out fox.png          # inside a collection folder running aigc dev',
        'AIGC_MINT_KEY=0x… aigc mint "a red fox" --collection 0x… --rpc https://rpc.example --node https://node.example --wait',
        'aigc mint "a heron in fog" --key keystore:./collector.json --wait --json',
      ) +
        '\n\nExit codes: 0 minted (or requested, without --wait); 1 refused, rejected, refunded or timed out; 2 bad input; 4 provenance check failed.',
    )
    .action(async (prompt: string, opts: MintCommandOptions) => {
      const { mintCommand } = await import('../mint');
      await mintCommand(prompt, opts);
    });
}
