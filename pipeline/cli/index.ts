#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config';
import type { InitCommandOptions } from './init';
import type { QuoteCommandOptions } from './quote';
import type { MintCommandOptions } from './mint';
import { reportError } from './exit';

// Each command loads its own modules when it runs: `aigc node` never loads the embedded stack the demo uses
// (arlocal, its GraphQL server and SQLite), which would cost it a second of start-up and tens of MB.

const program = new Command()
  .name('aigc')
  .description('AI-generated NFT collections: on-chain seeds, Arweave storage, verifiable provenance')
  .option('-v, --verbose', 'print error details');

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
};

program
  .command('init')
  .description('scaffold a collection folder: collection.json (+ its JSON Schema), .env.example, README, embed snippet')
  .argument('<dir>', 'folder to create (must be missing or empty, unless --force)')
  .option('--template <name|path>', 'template under templates/collections (genesis, avatar) or a collection.json path')
  .option('--name <name>', 'collection name')
  .option('--symbol <symbol>', 'token symbol: 1-11 upper-case letters or digits')
  .option('--price <ether>', 'mint price in ETH, e.g. 0.01 (written as mint.priceWei)')
  .option('--supply <n>', 'maximum number of tokens (mint.maxSupply)')
  .option('--royalty <percent>', 'royalty in percent, e.g. 5 or 2.5, at most 10 (written as royalty.bps)')
  .option('-y, --yes', 'ask nothing: take the template values for anything not given (always so without a TTY)')
  .option('--force', 'write into a non-empty folder (overwrites only the files init writes)')
  .option('--json', 'print { dir, files } as JSON (asks nothing)')
  .addHelpText(
    'after',
    '\nExamples:\n  $ aigc init my-collection\n' +
      '  $ aigc init avatars --template avatar --name "Moon Faces" --symbol MOON --price 0.02 --supply 500 --royalty 5 --yes\n' +
      '  $ aigc init my-collection --yes --json',
  )
  .action(async (dir: string, opts: InitCommandOptions) => {
    const { initCommand } = await import('./init');
    await initCommand(dir, opts);
  });

program
  .command('demo')
  .description('run the whole pipeline locally (anvil, arlocal, Redis, gateway, node): mint and verify tokens')
  .option('-n, --count <n>', 'number of mints (1-8)', positiveInt, 5)
  .option('--template <name>', 'collection template under templates/collections', 'genesis')
  .option('--data-dir <dir>', 'working folder (wiped first)', '.aigc/demo')
  .addOption(
    new Option('--attester <kind>', 'who signs: the operator key, a simulated attester, or a TEE key (TDX/SEV-SNP guest)')
      .choices(['operator', 'simulated', 'tee'])
      .default('operator'),
  )
  .addHelpText('after', '\nExamples:\n  $ aigc demo\n  $ aigc demo --count 3 --data-dir /tmp/aigc-demo\n  $ aigc demo --attester simulated')
  .action(async (opts: { count: number; template: string; dataDir: string; attester: 'operator' | 'simulated' | 'tee' }) => {
    const { runDemo } = await import('./demo');
    await runDemo({ count: opts.count, template: opts.template, dataDir: opts.dataDir, attester: opts.attester });
  });

program
  .command('node')
  .description('run the operator node against configured chain, Redis, gateway and Arweave')
  .option('-c, --config <file>', 'JSON config file (env vars override it)')
  .option('--workers-only', 'render only: never lead (no listener, no chain writes)')
  .addHelpText(
    'after',
    '\nExample:\n  $ AIGC_RPC_URL=http://127.0.0.1:8545 AIGC_COLLECTION=0x… AIGC_SIGNER_KEY=0x… \\\n' +
      '    AIGC_GATEWAY_URL=http://127.0.0.1:8080 AIGC_ARWEAVE_URL=http://127.0.0.1:1984 \\\n' +
      '    AIGC_ARWEAVE_WALLET=wallet.json REDIS_URL=redis://127.0.0.1:6379 aigc node',
  )
  .action(async (opts: { config?: string; workersOnly?: boolean }) => {
    const config = loadConfig({ file: opts.config });
    const { startNode } = await import('../node');
    const node = await startNode({ config, listen: !opts.workersOnly });
    const served = node.collections.map((c) => `${c.address} (${c.template.name}) on chain ${c.chainId}`).join(', ');
    console.log(`node running for ${served}; metrics at ${node.httpUrl ?? 'off'}/metrics; Ctrl-C to stop`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.log('stopping: finishing in-flight jobs…');
    await node.stop();
  });

program
  .command('verify')
  .description('check a token from public data: events, signature, manifest and image on Arweave')
  .argument('<tokenId>', 'token (= request) id', (v) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number');
    return BigInt(v);
  })
  .requiredOption('--collection <address>', 'collection contract (or AIGC_COLLECTION)', process.env.AIGC_COLLECTION)
  .option('--rpc <url>', 'JSON-RPC endpoint (or AIGC_RPC_URL)', process.env.AIGC_RPC_URL ?? 'http://127.0.0.1:8545')
  .option('--arweave <url>', 'Arweave gateway (or AIGC_ARWEAVE_URL)', process.env.AIGC_ARWEAVE_URL ?? 'https://arweave.net')
  .option('--from-block <n>', 'first block to search for the token events', (v) => Number(v), 0)
  .option('--json', 'print the report as JSON')
  .addHelpText('after', '\nExample:\n  $ aigc verify 3 --collection 0x… --rpc https://rpc.example --arweave https://arweave.net')
  .action(async (tokenId: bigint, opts: { collection: string; rpc: string; arweave: string; fromBlock: number; json?: boolean }) => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(opts.collection)) throw new InvalidArgumentError('--collection must be a 0x address');
    const { verifyCommand } = await import('./verify');
    await verifyCommand(tokenId, opts);
  });

const httpUrl = (value: string) => {
  if (!/^https?:\/\/[^\s/]+/.test(value)) throw new InvalidArgumentError('expected an http(s) URL');
  return value;
};
const address = (value: string) => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError('expected a 0x-prefixed 20-byte address');
  return value;
};

program
  .command('quote')
  .description('estimate the cost of minting N tokens of a template: Arweave fees and gas, per token and in total')
  .option('--template <name|path>', 'collection template name, or path to a collection.json', 'genesis')
  .option('-n, --count <n>', 'number of tokens', positiveInt, 100)
  .addOption(new Option('--format <format>', 'image format the gateway returns').choices(['png', 'webp', 'avif']).default('png'))
  .option('--image-bytes <n>', 'bytes per image, instead of measuring a sample from the procedural renderer', positiveInt)
  .option(
    '--arweave <url>',
    'Arweave gateway asked for /price (or AIGC_ARWEAVE_URL)',
    httpUrl,
    process.env.AIGC_ARWEAVE_URL || 'https://arweave.net',
  )
  .option('--rpc <url>', 'JSON-RPC endpoint for gas fees (or AIGC_RPC_URL)', httpUrl, process.env.AIGC_RPC_URL || 'http://127.0.0.1:8545')
  .option('--collection <address>', 'a deployed collection: estimate requestMint gas live and read its price', address)
  .option('--json', 'print one JSON object')
  .addHelpText(
    'after',
    '\nExamples:\n  $ aigc quote --count 500 --rpc https://mainnet.base.org\n' +
      '  $ aigc quote --template ./my/collection.json --image-bytes 1500000 --json\n' +
      '  $ aigc quote --rpc http://127.0.0.1:8545 --collection 0x… --arweave http://127.0.0.1:1984',
  )
  .action(async (opts: QuoteCommandOptions) => {
    const { quoteCommand } = await import('./quote');
    await quoteCommand(opts);
  });

program
  .command('mint')
  .description('pay for a mint of <prompt> and, with --wait, follow it to a verified token')
  .argument('<prompt>', 'what to render (the collection frames it)')
  .requiredOption('--collection <address>', 'collection contract (or AIGC_COLLECTION)', address, process.env.AIGC_COLLECTION)
  .option('--rpc <url>', 'JSON-RPC endpoint (or AIGC_RPC_URL)', httpUrl, process.env.AIGC_RPC_URL || 'http://127.0.0.1:8545')
  .option('--key <env:NAME>', 'environment variable holding the paying key', 'env:AIGC_MINT_KEY')
  .option(
    '--node <url>',
    "operator node's HTTP API, for live stages (or AIGC_NODE_URL); without it the chain is polled",
    httpUrl,
    process.env.AIGC_NODE_URL || undefined,
  )
  .option(
    '--arweave <url>',
    'Arweave gateway for the manifest and image (or AIGC_ARWEAVE_URL)',
    httpUrl,
    process.env.AIGC_ARWEAVE_URL || 'https://arweave.net',
  )
  .option('--to <address>', 'receive the token at another address (requestMintFor)', address)
  .option('--wait', 'follow the request until it is minted, rejected or refunded')
  .option('--timeout <seconds>', 'give up waiting after this long (the request stays open on chain)', positiveInt, 600)
  .option('--out <file>', 'with --wait: save the image here')
  .option('--json', 'print one JSON object (progress is not printed)')
  .addHelpText(
    'after',
    '\nExamples:\n  $ AIGC_MINT_KEY=0x… aigc mint "a red fox" --collection 0x… --rpc http://127.0.0.1:8545 --node http://127.0.0.1:9464 --wait --out fox.png\n' +
      '  $ aigc mint "a heron in fog" --collection 0x… --key env:MY_KEY --wait --json\n' +
      '\nExit codes: 0 minted (or requested, without --wait); 1 refused, rejected, refunded or timed out; 2 bad input; 4 provenance check failed.',
  )
  .action(async (prompt: string, opts: MintCommandOptions) => {
    const { mintCommand } = await import('./mint');
    await mintCommand(prompt, opts);
  });

program.parseAsync().then(
  () => process.exit(0),
  (error) => process.exit(reportError(error, program.opts().verbose)),
);
