import { Contract, ContractFactory, type ContractRunner, type EventLog, Interface, type Signer, ZeroAddress, ZeroHash } from 'ethers';
import { assertChainSupported } from './evm-support';
import { sendInOrder } from './nonce';
import type { CollectionTemplate } from '../template';
import { abi, bytecode } from './artifacts/AIGCCollection';
import { abi as factoryAbi, bytecode as factoryBytecode } from './artifacts/CollectionFactory';

export const collectionInterface = new Interface(abi);
const factoryInterface = new Interface(factoryAbi);

/** Signer kinds of the contract's registry (`AIGCCollection.SignerKind`). */
export const SignerKind = { NONE: 0, OPERATOR: 1, TEE: 2, COMPROMISED: 3 } as const;

/** `AIGCCollection.InitParams`: what a collection is created with. */
export type CollectionParams = {
  name: string;
  symbol: string;
  owner: string;
  mint: {
    price: bigint;
    maxSupply: number;
    maxPromptBytes: number;
    refundDelay: number;
    /** Unix seconds; 0 = open now. */
    mintStart: number;
    /** Unix seconds; 0 = no end. */
    mintEnd: number;
  };
  /** Requests per counted account (the payer; the recipient of an operator-sponsored mint); 0 = unlimited. */
  walletLimit: number;
  /** ERC-2981; ZeroAddress with 0 bps for none. At most 1,000 bps. */
  royaltyReceiver: string;
  royaltyBps: number;
  /** Authorised as an OPERATOR signer at creation; ZeroAddress for none. */
  signer: string;
  /** Receives the signer's earnings; ZeroAddress = the signer itself. */
  payee: string;
  /** ERC-7572: Arweave id (bytes32) of the collection manifest; ZeroHash for none yet. */
  contractManifest: string;
};

/** An ethers Contract bound to an AIGCCollection. */
export function connectCollection(address: string, runner: ContractRunner): Contract {
  return new Contract(address, collectionInterface, runner);
}

/** An ethers Contract bound to a CollectionFactory. */
function connectFactory(address: string, runner: ContractRunner): Contract {
  return new Contract(address, factoryInterface, runner);
}

/**
 * Deploys the AIGCCollection implementation and a CollectionFactory for it (once per chain).
 *
 * @example
 * const { factory } = await deployFactory(deployer);
 */
export async function deployFactory(deployer: Signer): Promise<{ implementation: string; factory: string }> {
  if (deployer.provider) await assertChainSupported(deployer.provider);
  // Deployed one after the other with nonces a plain provider's read cache cannot make stale (see sendInOrder).
  const deploy = async (factory: ContractFactory, ...args: unknown[]) => {
    const receipt = await sendInOrder(deployer, async (overrides) => (await factory.deploy(...args, overrides)).deploymentTransaction()!);
    return receipt.contractAddress!;
  };
  const implementation = await deploy(new ContractFactory(abi, bytecode, deployer));
  const factory = await deploy(new ContractFactory(factoryAbi, factoryBytecode, deployer), implementation);
  return { implementation, factory };
}

/**
 * Creates a collection (an ERC-1167 clone) through a factory and waits for it to be mined.
 *
 * @example
 * const { address, blockNumber } = await createCollection({ deployer, factory, params });
 */
export async function createCollection({
  deployer,
  factory,
  params,
}: {
  deployer: Signer;
  factory: string;
  params: CollectionParams;
}): Promise<{ address: string; blockNumber: number }> {
  if (deployer.provider) await assertChainSupported(deployer.provider);
  const receipt = await sendInOrder(deployer, (overrides) =>
    connectFactory(factory, deployer).getFunction('createCollection')(params, overrides),
  );
  const created = (receipt.logs as EventLog[]).map((l) => factoryInterface.parseLog(l)).find((e) => e?.name === 'CollectionCreated');
  return { address: created!.args.collection as string, blockNumber: receipt.blockNumber };
}

/**
 * The `InitParams` a template describes, owned by `owner`, with `operator` as its signer (paid to `payee`, or to
 * itself) and `contractManifest` as its ERC-7572 metadata (an Arweave id as bytes32; see `uploadCollectionManifest`).
 */
export function paramsFromTemplate(
  template: CollectionTemplate,
  owner: string,
  operator: string,
  { payee = ZeroAddress, contractManifest = ZeroHash }: { payee?: string; contractManifest?: string } = {},
): CollectionParams {
  const royaltyBps = template.royalty?.bps ?? 0;
  return {
    name: template.name,
    symbol: template.symbol,
    owner,
    mint: {
      price: BigInt(template.mint.priceWei),
      maxSupply: template.mint.maxSupply,
      maxPromptBytes: template.mint.maxPromptBytes,
      refundDelay: template.mint.refundDelaySeconds,
      mintStart: template.mint.mintStart ?? 0,
      mintEnd: template.mint.mintEnd ?? 0,
    },
    walletLimit: template.mint.walletLimit ?? 0,
    royaltyReceiver: royaltyBps ? (template.royalty?.receiver ?? owner) : ZeroAddress,
    royaltyBps,
    signer: operator || ZeroAddress,
    payee,
    contractManifest,
  };
}

/**
 * Deploys a collection from a template (a factory too, unless one is given) with `operator` as its signer.
 *
 * @example
 * const { address } = await deployFromTemplate({ deployer, template: loadTemplate('open-prompt'), operator });
 */
export async function deployFromTemplate({
  deployer,
  template,
  operator,
  factory,
  payee,
  contractManifest,
}: {
  deployer: Signer;
  template: CollectionTemplate;
  operator: string;
  factory?: string;
  payee?: string;
  contractManifest?: string;
}): Promise<{ address: string; blockNumber: number; factory: string }> {
  const factoryAddress = factory ?? (await deployFactory(deployer)).factory;
  const params = paramsFromTemplate(template, await deployer.getAddress(), operator, { payee, contractManifest });
  return { ...(await createCollection({ deployer, factory: factoryAddress, params })), factory: factoryAddress };
}
