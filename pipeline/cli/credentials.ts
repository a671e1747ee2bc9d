import path from 'node:path';
import { createDevelopmentCredentials } from '../credentials/dev-ca';

export type CredentialsInitOptions = { out: string; force?: boolean; json?: boolean };

/** `aigc credentials init`: a development CA and leaf for signing C2PA Content Credentials locally. */
export async function credentialsInitCommand(opts: CredentialsInitOptions): Promise<void> {
  const made = await createDevelopmentCredentials({ dir: path.resolve(opts.out), force: opts.force });
  const result = {
    created: made.created,
    subject: made.subject,
    certPath: made.certPath,
    keyPath: made.keyPath,
    caPath: made.caPath,
    env: { AIGC_C2PA_CERT: made.certPath, AIGC_C2PA_KEY: made.keyPath },
  };
  if (opts.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(
    made.created
      ? 'development C2PA credentials written (DEVELOPMENT ONLY):'
      : 'development C2PA credentials already there (--force to replace):',
  );
  console.log(`  chain  ${made.certPath}\n  key    ${made.keyPath}\n  CA     ${made.caPath}`);
  console.log(`use them with: AIGC_C2PA_CERT=${made.certPath} AIGC_C2PA_KEY=${made.keyPath}`);
}
