import type { Command } from 'commander';
import type { CredentialsInitOptions } from '../credentials';
import { examples } from './options';

export function registerCredentials(program: Command): void {
  const credentials = program.command('credentials').description('C2PA Content Credentials signing identities');
  credentials
    .command('init')
    .description('make a local development CA and ES256 leaf certificate (DEVELOPMENT ONLY) to sign Content Credentials')
    .option('--out <dir>', 'folder the CA, the chain and the key are written to', '.aigc/credentials')
    .option('--force', 'replace existing files')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      examples(
        'aigc credentials init',
        'aigc credentials init --out /etc/aigc/c2pa --json',
        'AIGC_C2PA_CERT=.aigc/credentials/c2pa-dev-cert.pem AIGC_C2PA_KEY=.aigc/credentials/c2pa-dev-key.pem aigc node',
      ) +
        '\n\nReaders show these credentials as valid but untrusted: no trust list holds the development CA. In production set\nAIGC_C2PA_CERT and AIGC_C2PA_KEY to a chain issued by a CA on the C2PA trust list. The key is written with mode 0600\nand never printed.',
    )
    .action(async (opts: CredentialsInitOptions) => {
      const { credentialsInitCommand } = await import('../credentials');
      await credentialsInitCommand(opts);
    });
}
