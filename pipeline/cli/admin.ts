import {
  type Contract,
  type ContractTransactionResponse,
  formatEther,
  getAddress,
  type JsonRpcProvider,
  NonceManager,
  parseEther,
  Wallet,
  ZeroAddress,
} from 'ethers';
import { collectionInterface, connectCollection, SignerKind } from '../chain/collection';
import { connectProvider } from '../chain/provider';
import { type CollectionReads, collectionReads } from '../chain/typed-reads';
import { AigcError } from '../errors';
import { createArweaveStore, loadWallet } from '../storage/arweave';
import { uploadCollectionManifest } from '../storage/collection-manifest';
import { arweaveIdToBytes32 } from '../storage/ids';
import { loadTemplate } from '../template';
import { chainActionError } from './chain-error';
import { resolveKey } from './keys';
import { jsonLine } from './output';
import { collectionFilePath, readDeployments, writeDeployment } from './project';
import { resolveTarget, type Target, type TargetFlags } from './target';

export type AdminOptions = TargetFlags & { key?: string; json?: boolean };

/** What an admin action needs: the collection, bound to the signing key, and typed reads of it. */
type AdminContext = {
  target: Target;
  chainId: number;
  provider: JsonRpcProvider;
  /** The signing key's address. */
  from: string;
  contract: Contract;
  reads: CollectionReads;
};

/** One action: the transaction to send, then what to read back and how to say it. */
type Action = {
  send(ctx: AdminContext): Promise<ContractTransactionResponse>;
  readBack(ctx: AdminContext, receipt: { logs: readonly { topics: readonly string[]; data: string }[] }): Promise<Record<string, unknown>>;
  describe(value: Record<string, unknown>): string;
};

const SIGNER_KINDS = ['none', 'operator', 'tee', 'compromised'] as const;
const kindName = (kind: bigint | number) => SIGNER_KINDS[Number(kind)] ?? String(kind);
const iso = (seconds: bigint | number) => (Number(seconds) === 0 ? 'none' : new Date(Number(seconds) * 1000).toISOString());

/**
 * Runs one owner or operator action on a live collection: resolves the collection and key, sends the transaction
 * (a refusal by the contract becomes one line naming its error), waits for it, and prints the tx hash and the new
 * value read back from the chain (or one JSON object with --json).
 */
async function run(name: string, o: AdminOptions, action: Action): Promise<void> {
  const target = resolveTarget(o);
  const key = await resolveKey(o.key, { fallbackEnv: 'AIGC_OWNER_KEY', role: 'deployer', devAccounts: target.devAccounts });
  const provider = await connectProvider(target.rpcUrl);
  try {
    const chainId = Number((await provider.getNetwork()).chainId);
    if ((await provider.getCode(target.collection)) === '0x')
      throw new AigcError('INVALID_REQUEST', `no contract at ${target.collection} on chain ${chainId}: check --collection and --rpc`);
    const wallet = new Wallet(key, provider);
    const contract = connectCollection(target.collection, new NonceManager(wallet));
    const ctx: AdminContext = {
      target,
      chainId,
      provider,
      from: wallet.address,
      contract,
      reads: collectionReads(connectCollection(target.collection, provider)),
    };
    let receipt;
    let hash: string;
    try {
      const tx = await action.send(ctx);
      hash = tx.hash;
      if (!o.json) console.error(`${name}: sent ${hash}, waiting for it to be mined…`);
      receipt = await tx.wait();
    } catch (error) {
      throw chainActionError(name, error);
    }
    if (!receipt) throw new AigcError('CHAIN_FAILED', `${name}: transaction ${hash} was dropped: run the command again`);
    const value = await action.readBack(ctx, receipt);
    if (o.json)
      console.log(
        jsonLine({ action: name, collection: target.collection, chainId, txHash: hash, blockNumber: receipt.blockNumber, ...value }),
      );
    else console.log(`${name}: ${action.describe(value)} (tx ${hash}, block ${receipt.blockNumber})`);
  } finally {
    provider.destroy();
  }
}

/** `aigc admin pause` / `unpause`: stop or allow new mint requests. */
export const pauseCommand = (paused: boolean, o: AdminOptions) =>
  run(paused ? 'pause' : 'unpause', o, {
    send: ({ contract }) => contract.getFunction(paused ? 'pause' : 'unpause')(),
    readBack: async ({ reads }) => ({ paused: await reads.paused() }),
    describe: (v) => (v.paused ? 'minting is paused' : 'minting is open'),
  });

/** The mint settings as they are, for an action that changes one of them. */
async function currentConfig(reads: CollectionReads) {
  const [config, walletLimit] = await reads.mintConfig();
  return {
    config: {
      price: config.price,
      maxSupply: config.maxSupply,
      maxPromptBytes: config.maxPromptBytes,
      refundDelay: config.refundDelay,
      mintStart: config.mintStart,
      mintEnd: config.mintEnd,
    },
    walletLimit,
  };
}

type MintConfig = Awaited<ReturnType<typeof currentConfig>>['config'];

/** Sends `setMintConfig` with `change` applied to the current settings. */
function setMintConfig(
  name: string,
  o: AdminOptions,
  change: (c: MintConfig, ctx: AdminContext) => Promise<MintConfig> | MintConfig,
  show: Action['describe'],
  pick: (c: MintConfig) => Record<string, unknown>,
) {
  return run(name, o, {
    async send(ctx) {
      const { config, walletLimit } = await currentConfig(ctx.reads);
      return ctx.contract.getFunction('setMintConfig')(await change(config, ctx), walletLimit);
    },
    readBack: async ({ reads }) => pick((await currentConfig(reads)).config),
    describe: show,
  });
}

/** `aigc admin set-price <eth>`. */
export function setPriceCommand(price: string, o: AdminOptions) {
  const wei = parseEth(price);
  return setMintConfig(
    'set-price',
    o,
    (c) => ({ ...c, price: wei }),
    (v) => `price is ${formatEther(v.priceWei as bigint)} ETH`,
    (c) => ({ priceWei: c.price }),
  );
}

/** `aigc admin set-supply <n>`: refuses below the tokens minted or pending before sending. */
export function setSupplyCommand(supply: number, o: AdminOptions) {
  return setMintConfig(
    'set-supply',
    o,
    async (c, { reads }) => {
      const [, reserved] = await reads.requestCounts();
      if (BigInt(supply) < reserved)
        throw new AigcError('INVALID_REQUEST', `${reserved} tokens are minted or pending: the max supply must be at least ${reserved}`);
      return { ...c, maxSupply: BigInt(supply) };
    },
    (v) => `max supply is ${v.maxSupply}`,
    (c) => ({ maxSupply: Number(c.maxSupply) }),
  );
}

/** `aigc admin set-window <start> <end>`: ISO dates, unix seconds, `now` or `none`. */
export function setWindowCommand(start: string, end: string, o: AdminOptions) {
  // A typo is bad input (exit 2) before anything is read from the chain; `now` needs the chain's clock.
  if (start !== 'now') parseTime(start, 'start');
  if (end !== 'now') parseTime(end, 'end');
  return setMintConfig(
    'set-window',
    o,
    async (c, { provider }) => {
      const now = (await provider.getBlock('latest'))!.timestamp;
      // `now` as a start is the same as no start (0): open from now on.
      const mintStart = start === 'now' ? 0 : parseTime(start, 'start');
      const mintEnd = end === 'now' ? now : parseTime(end, 'end');
      if (mintEnd !== 0 && mintEnd <= mintStart)
        throw new AigcError('INVALID_REQUEST', `the end (${iso(mintEnd)}) must be after the start (${iso(mintStart)})`);
      return { ...c, mintStart: BigInt(mintStart), mintEnd: BigInt(mintEnd) };
    },
    (v) => `mint window is ${iso(v.mintStart as number)} to ${iso(v.mintEnd as number)}`,
    (c) => ({ mintStart: Number(c.mintStart), mintEnd: Number(c.mintEnd) }),
  );
}

/** `aigc admin set-royalty <percent> [--receiver]`: the receiver defaults to the current one, else the key's address. */
export function setRoyaltyCommand(percent: string, o: AdminOptions & { receiver?: string }) {
  const bps = Math.round(Number(percent) * 100);
  if (!/^\d+(\.\d{1,2})?$/.test(percent) || bps > 1_000)
    throw new AigcError(
      'INVALID_REQUEST',
      `royalty "${percent}" must be a percentage from 0 to 10 with at most two decimals, e.g. 5 or 2.5`,
    );
  return run('set-royalty', o, {
    async send({ contract, reads, from }) {
      const [current] = await reads.royaltyInfo(0, 10_000);
      const receiver = bps === 0 ? ZeroAddress : (o.receiver ?? (current !== ZeroAddress ? current : from));
      return contract.getFunction('setRoyalty')(receiver, bps);
    },
    async readBack({ reads }) {
      const [receiver, amount] = await reads.royaltyInfo(0, 10_000);
      return { royaltyBps: Number(amount), receiver };
    },
    describe: (v) => (v.royaltyBps ? `royalty is ${Number(v.royaltyBps) / 100} % to ${v.receiver}` : 'no royalty'),
  });
}

/** The signer's payee as stored (zero when it is paid itself) and attestation: kept unless changed on purpose. */
async function signerEntry(reads: CollectionReads, signer: string) {
  const [kind, earnings, attestation, payee] = await reads.signerInfo(signer);
  return { kind, earnings, attestation, storedPayee: getAddress(payee) === getAddress(signer) ? ZeroAddress : payee };
}

const signerReadBack =
  (signer: string) =>
  async ({ reads }: AdminContext) => {
    const [kind, earnings, , payee] = await reads.signerInfo(signer);
    return { signer, kind: kindName(kind), payee, earningsWei: earnings };
  };

/** `aigc admin set-signer <address> [--kind operator|tee] [--payee] [--attestation]`. */
export function setSignerCommand(signer: string, o: AdminOptions & { kind: 'operator' | 'tee'; payee?: string; attestation?: string }) {
  return run('set-signer', o, {
    async send({ contract, reads }) {
      const entry = await signerEntry(reads, signer);
      const kind = o.kind === 'tee' ? SignerKind.TEE : SignerKind.OPERATOR;
      return contract.getFunction('setSigner')(signer, kind, o.attestation ?? entry.attestation, o.payee ?? entry.storedPayee);
    },
    readBack: signerReadBack(signer),
    describe: (v) => `${v.signer} is an authorised ${v.kind} signer, paid to ${v.payee}`,
  });
}

/** `aigc admin revoke-signer <address> [--compromised]`: payee and attestation are kept, so no earnings move. */
export function revokeSignerCommand(signer: string, o: AdminOptions & { compromised?: boolean }) {
  return run('revoke-signer', o, {
    async send({ contract, reads }) {
      const entry = await signerEntry(reads, signer);
      const kind = o.compromised ? SignerKind.COMPROMISED : SignerKind.NONE;
      return contract.getFunction('setSigner')(signer, kind, entry.attestation, entry.storedPayee);
    },
    readBack: signerReadBack(signer),
    describe: (v) =>
      v.kind === 'compromised'
        ? `${v.signer} is revoked and marked compromised: every token it signed now fails verify`
        : `${v.signer} is revoked (its tokens still verify; its earnings stay withdrawable)`,
  });
}

/**
 * `aigc admin withdraw [--signer]`: pays a signer's earnings to its payee (anyone may send it). The signer defaults to
 * the one recorded in deployments/ for this collection, else aigc dev's operator, else the key's own address.
 */
export function withdrawCommand(o: AdminOptions & { signer?: string }) {
  let signer: string;
  return run('withdraw', o, {
    send({ contract, target, from }) {
      const recorded = readDeployments().find((d) => d.collection.toLowerCase() === target.collection.toLowerCase());
      signer = o.signer ?? recorded?.signer ?? target.devAccounts?.find((a) => a.role === 'operator')?.address ?? from;
      return contract.getFunction('withdraw')(signer);
    },
    async readBack({ reads }, receipt) {
      const paid = receipt.logs.map((l) => tryParse(l)).find((e) => e?.name === 'EarningsWithdrawn');
      const [, earnings, , payee] = await reads.signerInfo(signer);
      return { signer, payee, withdrawnWei: paid?.args.amount ?? 0n, earningsWei: earnings };
    },
    describe: (v) => `paid ${formatEther(v.withdrawnWei as bigint)} ETH of ${v.signer}'s earnings to ${v.payee}`,
  });
}

/**
 * `aigc admin set-contract-uri [uri]`: sets the ERC-7572 collection manifest: the given `ar://<id>` (or id), else
 * uploads the manifest of collection.json (--template) with the Arweave wallet, as `aigc deploy` does. Updates
 * deployments/<chainId>.json when it records this collection.
 */
export function setContractUriCommand(uri: string | undefined, o: AdminOptions & { template?: string; arweaveWallet?: string }) {
  return run('set-contract-uri', o, {
    async send({ contract, reads, target }) {
      let manifest: string;
      if (uri) manifest = arweaveIdToBytes32(uri.startsWith('ar://') ? uri.slice(5) : uri);
      else {
        const templatePath = o.template ?? collectionFilePath();
        const walletPath = o.arweaveWallet ?? (process.env.AIGC_ARWEAVE_WALLET || undefined);
        if (!templatePath || !walletPath)
          throw new AigcError(
            'INVALID_REQUEST',
            'give an ar://<id>, or upload the collection.json manifest with --arweave-wallet <file> (run in the collection folder or pass --template)',
          );
        const [royaltyReceiver] = await reads.royaltyInfo(0, 10_000);
        const store = await createArweaveStore({ url: target.arweaveUrl, jwk: await loadWallet(walletPath) });
        manifest = await uploadCollectionManifest(store, loadTemplate(templatePath), royaltyReceiver);
      }
      return contract.getFunction('setContractURI')(manifest);
    },
    async readBack({ reads, chainId, target }) {
      const contractURI = await reads.contractURI();
      const recorded = readDeployments().find(
        (d) => d.chainId === chainId && d.collection.toLowerCase() === target.collection.toLowerCase(),
      );
      if (recorded) writeDeployment({ ...recorded, contractURI });
      return { contractURI };
    },
    describe: (v) => `contractURI is ${v.contractURI}`,
  });
}

function tryParse(log: { topics: readonly string[]; data: string }) {
  try {
    return collectionInterface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return null;
  }
}

/** An ETH amount (`0.02`) in wei; refuses negatives, more than 18 decimals and more than a uint96 holds. */
function parseEth(value: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(value)) throw new AigcError('INVALID_REQUEST', `price "${value}" must be an amount in ETH, e.g. 0.02`);
  const wei = parseEther(value);
  if (wei >= 2n ** 96n) throw new AigcError('INVALID_REQUEST', `price ${value} ETH is more than the contract can hold`);
  return wei;
}

/** A window bound: an ISO date, unix seconds, or `none` (0: no start / no end). */
export function parseTime(value: string, which: 'start' | 'end'): number {
  if (value === 'none') return 0;
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n < 2 ** 40) return n;
  } else {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms) && /^\d{4}-\d{2}-\d{2}/.test(value)) return Math.floor(ms / 1000);
  }
  throw new AigcError('INVALID_REQUEST', `the ${which} "${value}" must be an ISO date (2026-01-31T18:00:00Z), unix seconds, now or none`);
}
