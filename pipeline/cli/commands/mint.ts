import type { Command } from 'commander';
import type { MintCommandOptions } from '../mint';
import { address, examples, seconds, targetOptions } from './options';

export function registerMint(program: Command): void {
  targetOptions(
    program
      .command('mint')
      .description('pay for a mint of <prompt> and, with --wait, follow it to a verified token')
      .argument('[prompt]', 'what to render (the collection frames it); or --prompt-file'),
    { node: true },
  )
    .option('--prompt-file <file>', 'read the prompt from a UTF-8 file, byte for byte (- reads stdin), instead of the argument')
    .option('--key <env:NAME|keystore:PATH>', 'the paying key (default: AIGC_MINT_KEY, else a funded account of aigc dev)')
    .option('--to <address>', 'receive the token at another address (requestMintFor)', address)
    .option('--wait', 'follow the request until it is minted, rejected or refunded')
    .option('--timeout <seconds>', 'give up waiting after this long (the request stays open on chain)', seconds, 600)
    .option('--out <file>', 'with --wait: save the image here')
    .option('--dry-run', 'check the prompt and simulate the request against the chain; send nothing')
    .option('--json', 'print one JSON object (progress is not printed)')
    .addHelpText(
      'after',
      examples(
        'aigc mint "a red fox" --wait --out fox.png          # inside a collection folder running aigc dev',
        'AIGC_MINT_KEY=0x… aigc mint "a red fox" --collection 0x… --rpc https://rpc.example --node https://node.example --wait',
        'aigc mint "a heron in fog" --key keystore:./collector.json --wait --json',
        'aigc mint --prompt-file prompt.txt --dry-run --json',
      ) +
        '\n\nA prompt the node would refuse (no visible text, not valid Unicode) or longer than the collection takes is' +
        '\nrefused before anything is paid.' +
        '\n\nExit codes: 0 minted (or requested, without --wait; or checked, with --dry-run); 1 refused, rejected, refunded or' +
        '\ntimed out; 2 bad input; 4 provenance check failed.',
    )
    .action(async (prompt: string | undefined, opts: MintCommandOptions) => {
      const { mintCommand } = await import('../mint');
      await mintCommand(prompt, opts);
    });
}
