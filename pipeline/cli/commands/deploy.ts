import type { Command } from 'commander';
import type { DeployCommandOptions } from '../deploy';
import { address, examples, httpUrl, positiveInt } from './options';

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description(
      "deploy the folder's collection.json: implementation and factory (once per chain), the collection, its contractURI on Arweave, the operator signer; writes deployments/<chainId>.json",
    )
    .option('--rpc <url>', 'JSON-RPC endpoint of the chain (or AIGC_RPC_URL; default: the folder’s aigc dev stack)', httpUrl)
    .option(
      '--key <env:NAME|keystore:PATH>',
      "the deployer's key, owner of the collection (default: AIGC_OWNER_KEY, else aigc dev's deployer)",
    )
    .option('--chain-id <n>', 'the chain you mean to deploy on: refuse if the RPC reports another', positiveInt)
    .option(
      '--factory <address>',
      'create through this CollectionFactory (default: the one in deployments/<chainId>.json, else deploy one)',
      address,
    )
    .option('--template <path>', 'the collection.json to deploy (default: ./collection.json)')
    .option(
      '--signer <address>',
      "the operator node's signer address (default: the address of AIGC_SIGNER_KEY, else aigc dev's operator, else the deployer)",
      address,
    )
    .option('--payee <address>', "receives the signer's earnings (default: AIGC_SIGNER_PAYEE, else the signer itself)", address)
    .option('--arweave <url>', 'Arweave gateway for the collection manifest (or AIGC_ARWEAVE_URL; default https://arweave.net)', httpUrl)
    .option('--arweave-wallet <file>', 'JWK wallet that pays the manifest upload (or AIGC_ARWEAVE_WALLET); without one, no contractURI')
    .option('--no-contract-uri', 'deploy without contract-level metadata (set it later with aigc admin set-contract-uri)')
    .option(
      '--node <url>',
      "the operator node's HTTP API, recorded in deployments/ for aigc status and aigc mint (or AIGC_NODE_URL)",
      httpUrl,
    )
    .option('--force', 'deploy another collection although deployments/<chainId>.json records a live one')
    .option('--dry-run', 'print what would be done and what it costs (deploy gas, aigc quote of the whole supply); send nothing')
    .option('--json', 'print one JSON object (progress is not printed)')
    .addHelpText(
      'after',
      examples(
        'aigc deploy --rpc http://127.0.0.1:8545 --key env:DEPLOYER_KEY --dry-run',
        'AIGC_OWNER_KEY=0x… aigc deploy --rpc https://sepolia.base.org --chain-id 84532 --signer 0x… --arweave-wallet ./arweave-wallet.json',
        'aigc deploy --rpc https://mainnet.base.org --chain-id 8453 --key keystore:./owner.json --factory 0x… --json',
      ) +
        '\n\nExit codes: 0 deployed (or planned, with --dry-run); 1 refused (unfunded key, chain without the Cancun opcodes,' +
        '\na live collection already in deployments/ without --force, settings the contract refuses) or the chain or Arweave' +
        '\nfailed; 2 bad input (flags, collection.json, key, --chain-id mismatch).',
    )
    .action(async (opts: DeployCommandOptions) => {
      const { deployCommand } = await import('../deploy');
      await deployCommand(opts);
    });
}
