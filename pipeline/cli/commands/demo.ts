import { type Command, Option } from 'commander';
import { examples, positiveInt } from './options';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline locally (anvil, arlocal, Redis, gateway, node): mint and verify tokens')
    .option('-n, --count <n>', 'number of mints (1-8)', positiveInt, 5)
    .option('--template <name>', 'collection template under templates/collections', 'open-prompt')
    .option('--data-dir <dir>', 'working folder (wiped first)', '.aigc/demo')
    .addOption(
      new Option('--attester <kind>', 'who signs: the operator key, a simulated attester, or a TEE key (TDX/SEV-SNP guest)')
        .choices(['operator', 'simulated', 'tee'])
        .default('operator'),
    )
    .addHelpText('after', examples('aigc demo', 'aigc demo --count 3 --data-dir /tmp/aigc-demo', 'aigc demo --attester simulated'))
    .action(async (opts: { count: number; template: string; dataDir: string; attester: 'operator' | 'simulated' | 'tee' }) => {
      const { runDemo } = await import('../demo');
      await runDemo({ count: opts.count, template: opts.template, dataDir: opts.dataDir, attester: opts.attester });
    });
}
