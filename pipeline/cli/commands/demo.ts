import { type Command, Option } from 'commander';
import { examples, positiveInt } from './options';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline locally (anvil, arlocal, Redis, gateway, node): mint and verify tokens')
    .option('-n, --count <n>', 'number of mints (1-8), with the demo’s own prompts', positiveInt, 5)
    .option('-p, --prompt <text>', 'a prompt to mint (repeat for several; replaces --count)', collect, [])
    .option('--template <name|path>', 'a shipped template’s name, a collection.json, or a folder that holds one', 'open-prompt')
    .option('--data-dir <dir>', 'working folder (wiped first); images are written to <dir>/images', '.aigc/demo')
    .addOption(
      new Option('--attester <kind>', 'who signs: the operator key, a simulated attester, or a TEE key (TDX/SEV-SNP guest)')
        .choices(['operator', 'simulated', 'tee'])
        .default('operator'),
    )
    .addHelpText(
      'after',
      examples(
        'aigc demo',
        'aigc demo --prompt "a fox in the snow" --prompt "a lighthouse at dawn"',
        'aigc demo --template ./my-collection --count 3 --data-dir /tmp/aigc-demo',
        'aigc demo --attester simulated',
      ),
    )
    .action(
      async (opts: { count: number; prompt: string[]; template: string; dataDir: string; attester: 'operator' | 'simulated' | 'tee' }) => {
        const { runDemo } = await import('../demo');
        await runDemo({ count: opts.count, prompts: opts.prompt, template: opts.template, dataDir: opts.dataDir, attester: opts.attester });
      },
    );
}
