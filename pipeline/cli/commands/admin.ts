import { type Command, Option } from 'commander';
import type { AdminOptions } from '../admin';
import { address, bytes32, examples, positiveInt, targetOptions } from './options';

const EXIT_CODES =
  '\n\nExit codes: 0 done (the new value is read back from the chain); 1 the contract refused (its error in one line)' +
  '\nor the chain failed; 2 bad input.';

/** The options every admin action takes: where the collection is, the signing key, --json. */
function adminCommand(admin: Command, name: string, description: string): Command {
  return targetOptions(admin.command(name).description(description))
    .option('--key <env:NAME|keystore:PATH>', "the owner's key (default: AIGC_OWNER_KEY, else aigc dev's deployer)")
    .option('--json', 'print one JSON object: action, txHash, blockNumber and the new value');
}

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description("the owner's and operator's actions on a live collection: pause, prices, window, supply, royalty, signers, payouts")
    .addHelpText(
      'after',
      examples(
        'aigc admin pause                       # inside a collection folder (deployments/ or aigc dev)',
        'aigc admin set-price 0.02 --key env:OWNER_KEY',
        'aigc admin set-window 2026-06-01T18:00:00Z none',
        'aigc admin set-signer 0x… --payee 0x…',
        'aigc admin withdraw --collection 0x… --rpc https://mainnet.base.org',
      ) +
        '\n\nNot here: transferOwnership/acceptOwnership and claim (credits) — call them from any wallet;' +
        '\nwallet limit, prompt cap and refund delay — part of setMintConfig, not yet a command.' +
        EXIT_CODES,
    );

  const pause = adminCommand(admin, 'pause', 'stop new mint requests (fulfilment, refunds and payouts go on)');
  pause.addHelpText(
    'after',
    examples('aigc admin pause', 'aigc admin pause --collection 0x… --rpc http://127.0.0.1:8545 --json') + EXIT_CODES,
  );
  pause.action(async (o: AdminOptions) => (await import('../admin')).pauseCommand(true, o));

  adminCommand(admin, 'unpause', 'allow new mint requests again')
    .addHelpText('after', examples('aigc admin unpause') + EXIT_CODES)
    .action(async (o: AdminOptions) => (await import('../admin')).pauseCommand(false, o));

  adminCommand(admin, 'set-price', 'set the mint price, in ETH (requests already made keep what they paid)')
    .argument('<eth>', 'price of one mint in ETH, e.g. 0.02 (0 for free mints)')
    .addHelpText('after', examples('aigc admin set-price 0.02', 'aigc admin set-price 0 --json') + EXIT_CODES)
    .action(async (price: string, o: AdminOptions) => (await import('../admin')).setPriceCommand(price, o));

  adminCommand(admin, 'set-window', 'set when minting opens and closes')
    .argument('<start>', 'ISO date, unix seconds, now or none (open from now)')
    .argument('<end>', 'ISO date, unix seconds, now (close now) or none (never closes)')
    .addHelpText(
      'after',
      examples(
        'aigc admin set-window now 2026-12-31T23:59:59Z',
        'aigc admin set-window 1767225600 none',
        'aigc admin set-window none now',
      ) + EXIT_CODES,
    )
    .action(async (start: string, end: string, o: AdminOptions) => (await import('../admin')).setWindowCommand(start, end, o));

  adminCommand(admin, 'set-supply', 'set the maximum number of tokens (at least those minted or pending)')
    .argument('<n>', 'maximum supply', positiveInt)
    .addHelpText('after', examples('aigc admin set-supply 500') + EXIT_CODES)
    .action(async (n: number, o: AdminOptions) => (await import('../admin')).setSupplyCommand(n, o));

  adminCommand(admin, 'set-royalty', 'set the ERC-2981 royalty of every token (at most 10 %)')
    .argument('<percent>', 'e.g. 5 or 2.5; 0 for none')
    .option('--receiver <address>', 'who receives it (default: the current receiver, else the key)', address)
    .addHelpText(
      'after',
      examples('aigc admin set-royalty 5', 'aigc admin set-royalty 2.5 --receiver 0x…', 'aigc admin set-royalty 0') + EXIT_CODES,
    )
    .action(async (percent: string, o: AdminOptions & { receiver?: string }) => (await import('../admin')).setRoyaltyCommand(percent, o));

  adminCommand(admin, 'set-signer', "authorise a signer key (an operator node's, or a TEE's) and set who its earnings go to")
    .argument('<address>', "the signer's address", address)
    .addOption(new Option('--kind <kind>', 'operator key or TEE-held key').choices(['operator', 'tee']).default('operator'))
    .option('--payee <address>', "receives the signer's earnings (default: unchanged; 0x000…0 = the signer itself)", address)
    .option('--attestation <bytes32>', 'hash of the attestation document of a TEE key (default: unchanged)', bytes32)
    .addHelpText(
      'after',
      examples('aigc admin set-signer 0x… --payee 0x…', 'aigc admin set-signer 0x… --kind tee --attestation 0x…') + EXIT_CODES,
    )
    .action(async (signer: string, o: AdminOptions & { kind: 'operator' | 'tee'; payee?: string; attestation?: string }) =>
      (await import('../admin')).setSignerCommand(signer, o),
    );

  adminCommand(admin, 'revoke-signer', 'stop a signer key from minting (its earnings stay withdrawable)')
    .argument('<address>', "the signer's address", address)
    .option('--compromised', 'also make every token it signed fail verification (a leaked key)')
    .addHelpText('after', examples('aigc admin revoke-signer 0x…', 'aigc admin revoke-signer 0x… --compromised') + EXIT_CODES)
    .action(async (signer: string, o: AdminOptions & { compromised?: boolean }) =>
      (await import('../admin')).revokeSignerCommand(signer, o),
    );

  adminCommand(admin, 'withdraw', "pay a signer's earnings to its payee (anyone may send this)")
    .option('--signer <address>', "whose earnings (default: the signer in deployments/, else aigc dev's operator, else the key)", address)
    .addHelpText('after', examples('aigc admin withdraw', 'aigc admin withdraw --signer 0x… --json') + EXIT_CODES)
    .action(async (o: AdminOptions & { signer?: string }) => (await import('../admin')).withdrawCommand(o));

  adminCommand(admin, 'set-contract-uri', 'set the collection-level metadata (ERC-7572 contractURI)')
    .argument('[uri]', 'ar://<id> of a manifest already on Arweave (default: upload the one of collection.json)')
    .option('--template <path>', 'the collection.json to describe (default: ./collection.json)')
    .option('--arweave-wallet <file>', 'JWK wallet that pays the upload (or AIGC_ARWEAVE_WALLET)')
    .addHelpText(
      'after',
      examples(
        'aigc admin set-contract-uri --arweave-wallet ./arweave-wallet.json',
        'aigc admin set-contract-uri ar://bNbA3TEQVL60xlgCcqdz4ZPHFZ711cZ3hmkpGttDt_U',
      ) + EXIT_CODES,
    )
    .action(async (uri: string | undefined, o: AdminOptions & { template?: string; arweaveWallet?: string }) =>
      (await import('../admin')).setContractUriCommand(uri, o),
    );
}
