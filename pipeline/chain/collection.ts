import { Contract, ContractFactory, type ContractRunner, type EventLog, Interface, type Signer, ZeroAddress } from 'ethers';
import type { CollectionTemplate } from '../template';
import { abi, bytecode } from './artifacts/AIGCCollection';
import { abi as factoryAbi, bytecode as factoryBytecode } from './artifacts/CollectionFactory';

export const collectionInterface = new Interface(abi);
export const factoryInterface = new Interface(factoryAbi);

/** Signer kinds of the contract's registry (`AIGCCollection.SignerKind`). */
export const SignerKind = { NONE: 0, OPERATOR: 1, TEE: 2 } as const;

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
  /** Requests per recipient; 0 = unlimited (and cheaper: no counter is stored). */
  walletLimit: number;
  royaltyReceiver: string;
  royaltyBps: number;
  /** Authorised as an OPERATOR signer at creation; ZeroAddress for none. */
  signer: string;
};

/** An ethers Contract bound to an AIGCCollection. */
export function connectCollection(address: string, runner: ContractRunner): Contract {
  return new Contract(address, collectionInterface, runner);
}

/** An ethers Contract bound to a CollectionFactory. */
export function connectFactory(address: string, runner: ContractRunner): Contract {
  return new Contract(address, factoryInterface, runner);
}

/**
 * Deploys the AIGCCollection implementation and a CollectionFactory for it (once per chain).
 *
 * @example
 * const { factory } = await deployFactory(deployer);
 */
export async function deployFactory(deployer: Signer): Promise<{ implementation: string; factory: string }> {
  const impl = await new ContractFactory(abi, bytecode, deployer).deploy();
  await impl.waitForDeployment();
  const implementation = await impl.getAddress();
  const factory = await new ContractFactory(factoryAbi, factoryBytecode, deployer).deploy(implementation);
  await factory.waitForDeployment();
  return { implementation, factory: await factory.getAddress() };
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
  const receipt = await (await connectFactory(factory, deployer).createCollection(params)).wait();
  const created = (receipt.logs as EventLog[])
    .map((l) => factoryInterface.parseLog(l))
    .find((e) => e?.name === 'CollectionCreated');
  return { address: created!.args.collection as string, blockNumber: receipt.blockNumber as number };
}

/** The `InitParams` a template describes, owned by `owner`, with `operator` as its signer. */
export function paramsFromTemplate(template: CollectionTemplate, owner: string, operator: string): CollectionParams {
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
    royaltyReceiver: template.royalty?.receiver ?? owner,
    royaltyBps: template.royalty?.bps ?? 0,
    signer: operator || ZeroAddress,
  };
}

/**
 * Deploys a collection from a template (a factory too, unless one is given) with `operator` as its signer.
 *
 * @example
 * const { address } = await deployFromTemplate({ deployer, template: loadTemplate('genesis'), operator });
 */
export async function deployFromTemplate({
  deployer,
  template,
  operator,
  factory,
}: {
  deployer: Signer;
  template: CollectionTemplate;
  operator: string;
  factory?: string;
}): Promise<{ address: string; blockNumber: number; factory: string }> {
  const factoryAddress = factory ?? (await deployFactory(deployer)).factory;
  const params = paramsFromTemplate(template, await deployer.getAddress(), operator);
  return { ...(await createCollection({ deployer, factory: factoryAddress, params })), factory: factoryAddress };
}
