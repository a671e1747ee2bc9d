import type { Command } from 'commander';
import type { ArlocalCommandOptions } from '../arlocal';
import { examples, milliseconds, portNumber } from './options';

export function registerArlocal(program: Command): void {
  program
    .command('arlocal')
    .description('run a local Arweave gateway (the project’s patched arlocal: parallel chunks, fast uploads) until Ctrl-C')
    .option('--port <n>', 'port to listen on (0 = a free port)', portNumber, 1984)
    .option('--data-dir <dir>', 'where its database lives (kept across restarts)', '.aigc/arlocal')
    .option('--mine-interval <ms>', 'mine a block this often, so uploads confirm', milliseconds, 1_000)
    .option('--json', 'print {"url": …} as one JSON line once it is up')
    .addHelpText(
      'after',
      examples(
        'aigc arlocal                                  # http://127.0.0.1:1984',
        'aigc arlocal --port 1985 --data-dir /var/lib/arlocal',
        'curl http://127.0.0.1:1984/mint/<address>/1000000000000   # 1 AR of test tokens',
      ) +
        '\n\nUse it instead of the stock `npx arlocal`, which stores chunks in order of arrival (the node then uploads' +
        '\none chunk at a time). Exit codes: 0 stopped by Ctrl-C or SIGTERM; 1 the port is taken.',
    )
    .action(async (opts: ArlocalCommandOptions) => {
      const { arlocalCommand } = await import('../arlocal');
      await arlocalCommand(opts);
    });
}
