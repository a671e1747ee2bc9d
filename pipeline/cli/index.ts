#!/usr/bin/env node
import { Command } from 'commander';
import { APP_VERSION } from '../version';
import { registerAdmin } from './commands/admin';
import { registerArlocal } from './commands/arlocal';
import { registerCredentials } from './commands/credentials';
import { registerDemo } from './commands/demo';
import { registerDeploy } from './commands/deploy';
import { registerGateway } from './commands/gateway';
import { registerDev } from './commands/dev';
import { registerInit } from './commands/init';
import { registerInitNode } from './commands/init-node';
import { registerMint } from './commands/mint';
import { registerNode } from './commands/node';
import { registerPreview } from './commands/preview';
import { registerQuote } from './commands/quote';
import { registerStatus } from './commands/status';
import { registerVerify } from './commands/verify';
import { registerWallet } from './commands/wallet';
import { reportError } from './exit';

// Each command loads its own modules when it runs: `aigc node` never loads the embedded stack the demo uses
// (arlocal, its GraphQL server and SQLite), which would cost it a second of start-up and tens of MB.

const program = new Command()
  .name('aigc')
  .description('AI-generated NFT collections: on-chain seeds, Arweave storage, verifiable provenance')
  .version(APP_VERSION, '-V, --version')
  .option('-v, --verbose', 'print error details')
  // Usage errors reach reportError (exit 2, like every other bad input) instead of ending the process with 1; set
  // before the commands are registered, which inherit it.
  .exitOverride();

for (const register of [
  registerInit,
  registerPreview,
  registerDev,
  registerMint,
  registerVerify,
  registerDeploy,
  registerStatus,
  registerAdmin,
  registerCredentials,
  registerQuote,
  registerDemo,
  registerInitNode,
  registerNode,
  registerGateway,
  registerArlocal,
  registerWallet,
])
  register(program);

program.parseAsync().then(
  () => process.exit(0),
  (error) => process.exit(reportError(error, program.opts().verbose)),
);
