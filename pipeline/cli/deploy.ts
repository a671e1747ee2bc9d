import path from 'node:path';
import { Contract, formatEther, formatUnits, getAddress, type JsonRpcProvider, NonceManager, Wallet, ZeroAddress, ZeroHash } from 'ethers';
import { abi as factoryAbi } from '../chain/artifacts/CollectionFactory';
import {
  type CollectionParams,
  connectCollection,
  createCollection,
  deployFactory,
  paramsFromTemplate,
  SignerKind,
} from '../chain/collection';
import { type DeployGasEstimate, estimateDeployGas } from '../chain/deploy-estimate';
import { assertChainSupported } from '../chain/evm-support';
import { connectProvider } from '../chain/provider';
import { collectionReads } from '../chain/typed-reads';
import { estimateMintCost, type MintCostEstimate } from '../cost/estimate';
import { chainFees } from '../cost/gas';
import { AigcError, errorMessage } from '../errors';
import { createArweaveStore, loadWallet } from '../storage/arweave';
import { uploadCollectionManifest } from '../storage/collection-manifest';
import { type CollectionTemplate, loadTemplate } from '../template';
import { checkPromptBudget } from '../templates/prompt-budget';
import { chainActionError } from './chain-error';
import { resolveKey } from './keys';
import { jsonLine, progress } from './output';
import { collectionFilePath, type Deployment, readDeployments, readDevState, writeDeployment } from './project';
import { printQuote, quoteJson } from './quote';

export type DeployCommandOptions = {
  rpc?: string;
  key?: string;
  chainId?: number;
  factory?: string;
  template?: string;
  signer?: string;
  payee?: string;
  arweave?: string;
  arweaveWallet?: string;
  /** false with --no-contract-uri. */
  contractUri: boolean;
  node?: string;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
};

const env = (name: string) => process.env[name] || undefined;
const eth = (wei: bigint) => `${formatEther(wei)} ETH`;
const int = (n: bigint | number) => n.toLocaleString('en-US');
/** Stands in for the collection manifest's id in the gas estimate: a non-zero word costs what the real one will. */
const SOME_MANIFEST = `0x${'ab'.repeat(32)}`;

/** Where the operator signer comes from when --signer is not given. */
type SignerChoice = { address: string; source: string };

/** What `aigc deploy` will do, worked out before anything is sent. */
type DeployPlan = {
  chainId: number;
  rpcUrl: string;
  deployer: string;
  balance: bigint;
  template: CollectionTemplate;
  templatePath: string;
  /** The factory to use; undefined = deploy the implementation and a factory. */
  factory?: { address: string; implementation: string; source: string };
  signer: SignerChoice;
  payee: string;
  /** Where the collection manifest goes; undefined = no contract URI, `why` says so. */
  arweave?: { url: string; walletPath: string };
  noContractUriReason?: string;
  params: CollectionParams;
  gas: DeployGasEstimate;
  maxFeePerGas: bigint;
  cost: bigint;
  funded: boolean;
};

/**
 * `aigc deploy`: deploys the implementation and factory if the chain has none recorded, creates the collection of
 * `collection.json`, stores its contract-level metadata on Arweave, authorises the operator signer and its payee,
 * and writes `deployments/<chainId>.json`. Checks the chain id, the chain's opcodes and the key's balance before
 * sending anything; `--dry-run` stops after printing the plan and its cost.
 */
export async function deployCommand(o: DeployCommandOptions): Promise<void> {
  const dir = process.cwd();
  const templatePath = o.template ?? collectionFilePath(dir);
  if (!templatePath)
    throw new AigcError(
      'INVALID_REQUEST',
      'no collection.json here: run aigc deploy inside a collection folder (make one with aigc init <dir>) or pass --template <path>',
    );
  const template = loadTemplate(templatePath);
  const dev = readDevState(dir);
  const rpcUrl = o.rpc ?? env('AIGC_RPC_URL') ?? dev?.rpcUrl;
  if (!rpcUrl) throw new AigcError('INVALID_REQUEST', 'no chain: pass --rpc <url> (or set AIGC_RPC_URL)');
  const devAccounts = dev?.rpcUrl === rpcUrl ? dev.accounts : undefined;
  const key = await resolveKey(o.key, { fallbackEnv: 'AIGC_OWNER_KEY', role: 'deployer', devAccounts });
  const say = (line: string) => {
    if (!o.json) console.error(line);
  };

  const provider = await connectProvider(rpcUrl);
  try {
    const chainId = Number((await provider.getNetwork()).chainId);
    if (o.chainId !== undefined && o.chainId !== chainId)
      throw new AigcError('INVALID_REQUEST', `${rpcUrl} is chain ${chainId}, not ${o.chainId} (--chain-id): check --rpc`);
    await assertChainSupported(provider);
    const wallet = new Wallet(key, provider);
    const previous = readDeployments(dir).find((d) => d.chainId === chainId);
    if (previous && !o.force && (await hasCode(provider, previous.collection)))
      throw new AigcError(
        'CONFLICT',
        `deployments/${chainId}.json already records collection ${previous.collection} on chain ${chainId}: pass --force to deploy another (the file will then point at the new one)`,
      );

    const signer = chooseSigner(o.signer, devAccounts, wallet.address);
    const payee = o.payee ?? env('AIGC_SIGNER_PAYEE') ?? ZeroAddress;
    const arweaveUrl = o.arweave ?? env('AIGC_ARWEAVE_URL') ?? (devAccounts ? dev?.arweaveUrl : undefined);
    const walletPath = o.arweaveWallet ?? env('AIGC_ARWEAVE_WALLET');
    const arweave = o.contractUri && walletPath ? { url: arweaveUrl ?? 'https://arweave.net', walletPath } : undefined;
    const noContractUriReason = !o.contractUri
      ? '--no-contract-uri'
      : arweave
        ? undefined
        : 'no Arweave wallet: --arweave-wallet or AIGC_ARWEAVE_WALLET';

    const factory = await chooseFactory(
      provider,
      chainId,
      o.factory,
      previous,
      dev?.chainId === chainId && devAccounts ? dev.factory : undefined,
    );
    const params = paramsFromTemplate(template, wallet.address, signer.address, {
      payee,
      contractManifest: arweave ? SOME_MANIFEST : ZeroHash,
    });
    const gas = await estimateDeployGas(provider, { from: wallet.address, factory: factory?.address, params });
    const [{ maxFeePerGas }, balance] = await Promise.all([chainFees(provider), provider.getBalance(wallet.address)]);
    const cost = gas.total * maxFeePerGas;
    const plan: DeployPlan = {
      chainId,
      rpcUrl,
      deployer: wallet.address,
      balance,
      template,
      templatePath,
      factory,
      signer,
      payee,
      arweave,
      noContractUriReason,
      params,
      gas,
      maxFeePerGas,
      cost,
      funded: balance >= cost,
    };

    // The gateway's budget is its operator's setting; GATEWAY_MAX_PROMPT_TOKENS here when it is not the default.
    const budget = checkPromptBudget(template, env('GATEWAY_MAX_PROMPT_TOKENS') ? Number(env('GATEWAY_MAX_PROMPT_TOKENS')) : undefined);
    const warnBudget = () => budget.warning && say(`warning: ${budget.warning}`);

    if (o.dryRun) {
      warnBudget();
      await printDryRun(plan, arweaveUrl ?? 'https://arweave.net', o.json);
      return;
    }
    if (!plan.funded)
      throw new AigcError(
        'INSUFFICIENT_FUNDS',
        `${wallet.address} has ${eth(balance)} on chain ${chainId}; deploying needs up to ${eth(cost)} (${int(gas.total)} gas at ${formatUnits(maxFeePerGas, 'gwei')} gwei): fund it, then run aigc deploy again`,
      );
    warnBudget();
    if (signer.address === wallet.address)
      say(
        'note: the deployer is also the operator signer (no --signer, AIGC_SIGNER_KEY or aigc dev operator): run aigc node with this key, or authorise another with aigc admin set-signer',
      );
    if (noContractUriReason && o.contractUri)
      say(
        `note: deploying without a contract URI (${noContractUriReason}); set it later with aigc admin set-contract-uri --arweave-wallet <file>`,
      );

    // Arweave first: the manifest's id goes into the creation transaction, and a failed upload leaves the chain untouched.
    let contractManifest = ZeroHash;
    if (arweave) {
      say(`uploading the collection manifest to ${arweave.url}…`);
      const store = await createArweaveStore({ url: arweave.url, jwk: await loadWallet(arweave.walletPath) });
      contractManifest = await uploadCollectionManifest(store, template, params.royaltyReceiver);
    }

    const sender = new NonceManager(wallet);
    let chosen = factory && { factory: factory.address, implementation: factory.implementation };
    let created: { factory: string; implementation: string; address: string; blockNumber: number };
    try {
      if (chosen) say(`using factory ${chosen.factory} (${factory!.source})`);
      else {
        say(
          `deploying the AIGCCollection implementation and its factory (once per chain, ~${int(gas.total - gas.createCollection.gas)} gas)…`,
        );
        chosen = await deployFactory(sender);
      }
      say(`creating "${template.name}" (${template.symbol})…`);
      created = {
        ...chosen,
        ...(await createCollection({ deployer: sender, factory: chosen.factory, params: { ...params, contractManifest } })),
      };
    } catch (error) {
      const failed = chainActionError('deploy', error);
      // A factory deployed before the failure is not lost: say how to use it.
      if (chosen && !factory)
        throw new AigcError(
          failed.code,
          `${failed.shortMessage} (factory ${chosen.factory} was deployed: pass --factory ${chosen.factory})`,
          {
            cause: error,
          },
        );
      throw failed;
    }

    const reads = collectionReads(connectCollection(created.address, provider));
    const [owner, [kind, , , paidTo], contractURI, after] = await Promise.all([
      reads.owner(),
      reads.signerInfo(signer.address),
      reads.contractURI(),
      provider.getBalance(wallet.address),
    ]);
    if (Number(kind) !== SignerKind.OPERATOR)
      throw new AigcError('INTERNAL', `collection ${created.address} was created but ${signer.address} is not its signer: report this`);
    const nodeUrl = o.node ?? env('AIGC_NODE_URL');
    const deployment: Deployment = {
      chainId,
      collection: created.address,
      factory: created.factory,
      implementation: created.implementation,
      blockNumber: created.blockNumber,
      owner,
      signer: signer.address,
      payee: paidTo,
      ...(contractURI ? { contractURI } : {}),
      rpcUrl,
      ...(arweave ? { arweaveUrl: arweave.url } : arweaveUrl ? { arweaveUrl } : {}),
      ...(nodeUrl ? { nodeUrl } : {}),
      deployedAt: new Date().toISOString(),
    };
    const file = writeDeployment(deployment, dir);
    const spent = balance - after;
    if (o.json) {
      console.log(jsonLine({ ...deployment, factoryDeployed: !factory, spentWei: spent, file: path.relative(dir, file) }));
      return;
    }
    console.log(`deployed "${template.name}" (${template.symbol}) on chain ${chainId}`);
    console.log(`  collection   ${created.address} (block ${created.blockNumber})`);
    console.log(`  factory      ${created.factory} (${factory ? factory.source : 'deployed now'})`);
    console.log(`  owner        ${owner}`);
    console.log(`  signer       ${signer.address} (operator, ${signer.source}), paid to ${paidTo}`);
    console.log(`  contractURI  ${contractURI || 'none: set it with aigc admin set-contract-uri --arweave-wallet <file>'}`);
    console.log(`  spent        ${eth(spent)}`);
    console.log(`wrote ${path.relative(dir, file)}`);
    console.log(
      `Next: run the operator node with AIGC_COLLECTION=${created.address} AIGC_START_BLOCK=${created.blockNumber} (aigc node), then aigc status`,
    );
  } finally {
    provider.destroy();
  }
}

const hasCode = async (provider: JsonRpcProvider, address: string) => (await provider.getCode(address)) !== '0x';

/**
 * The operator signer: --signer; else the address of AIGC_SIGNER_KEY (the key `aigc node` signs with, from the same
 * variable); else the running `aigc dev` stack's operator; else the deployer itself.
 */
function chooseSigner(
  flag: string | undefined,
  devAccounts: { role: string; address: string }[] | undefined,
  deployer: string,
): SignerChoice {
  if (flag) return { address: getAddress(flag), source: '--signer' };
  const nodeKey = env('AIGC_SIGNER_KEY');
  if (nodeKey) {
    try {
      return { address: new Wallet(nodeKey).address, source: 'AIGC_SIGNER_KEY' };
    } catch {
      throw new AigcError('INVALID_REQUEST', 'AIGC_SIGNER_KEY is not a private key: fix it, or pass --signer <address>');
    }
  }
  const operator = devAccounts?.find((a) => a.role === 'operator');
  if (operator) return { address: operator.address, source: 'aigc dev operator' };
  return { address: deployer, source: 'the deployer' };
}

/**
 * The factory to create the collection with: --factory (it must be a CollectionFactory on this chain), else the one
 * recorded for this chain in deployments/ while it still has code there (a restarted dev chain has lost it), else the
 * running `aigc dev` stack's when deploying onto it, else none.
 */
async function chooseFactory(
  provider: JsonRpcProvider,
  chainId: number,
  flag: string | undefined,
  previous: Deployment | undefined,
  devFactory?: string,
): Promise<DeployPlan['factory']> {
  const candidate = flag ?? previous?.factory ?? devFactory;
  if (!candidate) return undefined;
  const source = flag ? '--factory' : previous?.factory ? `from deployments/${chainId}.json` : 'the aigc dev stack’s';
  if (!(await hasCode(provider, candidate))) {
    if (flag) throw new AigcError('INVALID_REQUEST', `no contract at --factory ${flag} on chain ${chainId}: check the address and --rpc`);
    return undefined;
  }
  try {
    const implementation = (await new Contract(candidate, factoryAbi, provider).getFunction('implementation').staticCall()) as string;
    return { address: getAddress(candidate), implementation, source };
  } catch (cause) {
    throw new AigcError('INVALID_REQUEST', `${candidate} (${source}) is not a CollectionFactory: ${errorMessage(cause).split('\n')[0]}`, {
      cause,
    });
  }
}

/** The plan, its gas and cost, and what minting the whole supply costs (`aigc quote`); nothing is sent. */
async function printDryRun(plan: DeployPlan, arweaveUrl: string, json?: boolean): Promise<void> {
  const { template, params, gas } = plan;
  let quote: MintCostEstimate | undefined;
  let quoteError: string | undefined;
  const bar = json ? undefined : progress();
  try {
    quote = await estimateMintCost({
      template,
      count: template.mint.maxSupply,
      arweave: arweaveUrl,
      rpc: plan.rpcUrl,
      onProgress: bar?.update,
    });
  } catch (error) {
    quoteError = errorMessage(error);
  } finally {
    bar?.done();
  }
  const steps = [
    ...(plan.factory
      ? [{ action: 'use-factory', factory: plan.factory.address, source: plan.factory.source }]
      : [
          { action: 'deploy-implementation', ...gas.implementation },
          { action: 'deploy-factory', ...gas.factory },
        ]),
    plan.arweave
      ? { action: 'upload-contract-manifest', arweave: plan.arweave.url, wallet: plan.arweave.walletPath }
      : { action: 'skip-contract-uri', reason: plan.noContractUriReason },
    {
      action: 'create-collection',
      ...gas.createCollection,
      name: template.name,
      symbol: template.symbol,
      owner: plan.deployer,
      priceWei: params.mint.price,
      maxSupply: params.mint.maxSupply,
      royalty: { receiver: params.royaltyReceiver, bps: params.royaltyBps },
      signer: plan.signer.address,
      signerSource: plan.signer.source,
      payee: plan.payee === ZeroAddress ? plan.signer.address : plan.payee,
    },
    { action: 'write', file: `deployments/${plan.chainId}.json` },
  ];
  if (json) {
    console.log(
      jsonLine({
        dryRun: true,
        chainId: plan.chainId,
        deployer: plan.deployer,
        balanceWei: plan.balance,
        steps,
        gas: gas.total,
        maxFeePerGas: plan.maxFeePerGas,
        costWei: plan.cost,
        funded: plan.funded,
        mintQuote: quote ? quoteJson(quote, template.name) : null,
        ...(quoteError ? { mintQuoteError: quoteError } : {}),
      }),
    );
    return;
  }
  const g = (x: { gas: bigint; source: string }) =>
    `${int(x.gas)} gas (${x.source === 'measured' ? 'measured on anvil' : 'eth_estimateGas'})`;
  console.log(`aigc deploy --dry-run: nothing is sent. Chain ${plan.chainId} at ${plan.rpcUrl}; deployer ${plan.deployer}.`);
  console.log('Would:');
  let n = 0;
  const step = (line: string) => console.log(`  ${++n}. ${line}`);
  if (plan.factory) step(`use factory ${plan.factory.address} (${plan.factory.source})`);
  else {
    step(`deploy the AIGCCollection implementation: ${g(gas.implementation!)}`);
    step(`deploy the CollectionFactory: ${g(gas.factory!)}`);
  }
  if (plan.arweave) step(`upload the collection manifest (contractURI) to ${plan.arweave.url}, paid by ${plan.arweave.walletPath}`);
  else step(`leave the contract URI unset (${plan.noContractUriReason})`);
  const royalty = params.royaltyBps ? `, royalty ${params.royaltyBps / 100} % to ${params.royaltyReceiver}` : '';
  step(
    `create "${template.name}" (${template.symbol}) from ${plan.templatePath}: ${eth(params.mint.price)} a mint, ${int(params.mint.maxSupply)} tokens${royalty}; ${g(gas.createCollection)}`,
  );
  step(
    `authorise signer ${plan.signer.address} (${plan.signer.source}) as operator, paid to ${plan.payee === ZeroAddress ? 'itself' : plan.payee}`,
  );
  step(`write deployments/${plan.chainId}.json`);
  console.log(
    `Deploy cost: up to ${eth(plan.cost)} (${int(gas.total)} gas at maxFeePerGas ${formatUnits(plan.maxFeePerGas, 'gwei')} gwei); the key holds ${eth(plan.balance)}${plan.funded ? '.' : `: NOT enough, fund ${plan.deployer} first.`}`,
  );
  console.log('');
  if (quote) printQuote(quote, template.name);
  else console.log(`Mint cost: not available (${quoteError}); try aigc quote --template ${plan.templatePath} --arweave <url>.`);
}
