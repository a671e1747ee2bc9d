import type { Command } from 'commander';
import type { WalletOptions } from '../wallet';
import { examples, httpUrl } from './options';

export function registerWallet(program: Command): void {
  const wallet = program
    .command('wallet')
    .description("make and inspect the node's keys: the Arweave wallet that pays for uploads, the signer that mints")
    .addHelpText(
      'after',
      examples(
        'aigc wallet arweave create --out secrets/arweave-wallet.json',
        'aigc wallet arweave balance secrets/arweave-wallet.json --arweave https://arweave.net',
        'AIGC_KEYSTORE_PASSWORD=… aigc wallet signer create --out secrets/signer.json',
        'aigc wallet signer balance secrets/signer.json --rpc https://sepolia.base.org',
      ) + '\n\ndocs/operator-quickstart.md says how to fund each on a test network and on mainnet.',
    );
  const json = (c: Command) => c.option('--json', 'print one JSON object');

  const arweave = wallet.command('arweave').description('the JWK wallet that pays for Arweave uploads (arweave.walletPath)');
  json(arweave.command('create').description('write a new wallet file (mode 0600) and print its address'))
    .requiredOption('--out <file>', 'where to write it')
    .option('--force', 'replace an existing file')
    .addHelpText('after', examples('aigc wallet arweave create --out secrets/arweave-wallet.json'))
    .action(async (o: WalletOptions & { out: string }) => (await import('../wallet')).arweaveCreate(o));
  json(arweave.command('address').description("print a wallet file's address").argument('<file>', 'JWK wallet file'))
    .addHelpText('after', examples('aigc wallet arweave address secrets/arweave-wallet.json'))
    .action(async (file: string, o: WalletOptions) => (await import('../wallet')).arweaveAddress(file, o));
  json(arweave.command('balance').description('print the balance in AR').argument('<file|address>', 'JWK wallet file or address'))
    .option('--arweave <url>', 'gateway to ask (or AIGC_ARWEAVE_URL; default https://arweave.net)', httpUrl)
    .addHelpText('after', examples('aigc wallet arweave balance secrets/arweave-wallet.json --arweave http://127.0.0.1:1984 --json'))
    .action(async (file: string, o: WalletOptions) => (await import('../wallet')).arweaveBalance(file, o));

  const signer = wallet.command('signer').description('the key that signs provenance and pays for fulfilments (signer.keystorePath)');
  json(signer.command('create').description('write a new key as an encrypted keystore (mode 0600) and print its address'))
    .requiredOption('--out <file>', 'where to write it')
    .option('--force', 'replace an existing file')
    .addHelpText(
      'after',
      examples('aigc wallet signer create --out secrets/signer.json            # asks for the password') +
        '\n\nThe password comes from AIGC_KEYSTORE_PASSWORD, else the terminal. The node reads it from the file' +
        '\nsigner.keystorePasswordFile (AIGC_SIGNER_KEYSTORE_PASSWORD_FILE) names.',
    )
    .action(async (o: WalletOptions & { out: string }) => (await import('../wallet')).signerCreate(o));
  json(signer.command('address').description("print a keystore's address (no password needed)").argument('<file>', 'keystore file'))
    .addHelpText('after', examples('aigc wallet signer address secrets/signer.json'))
    .action(async (file: string, o: WalletOptions) => (await import('../wallet')).signerAddress(file, o));
  json(signer.command('balance').description('print the balance in ETH').argument('<file|address>', 'keystore file or 0x address'))
    .option('--rpc <url>', 'JSON-RPC endpoint (or AIGC_RPC_URL)', httpUrl)
    .addHelpText('after', examples('aigc wallet signer balance secrets/signer.json --rpc https://sepolia.base.org'))
    .action(async (file: string, o: WalletOptions) => (await import('../wallet')).signerBalance(file, o));
}
