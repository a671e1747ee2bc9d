import { Contract, ContractFactory, type ContractRunner, Interface, type Signer, ZeroHash } from 'ethers';
import type { CollectionTemplate } from '../template';
import { abi, bytecode } from './artifacts/AIGCCollection';

export const collectionInterface = new Interface(abi);

/** Signer kinds of the contract's registry (`AIGCCollection.SignerKind`). */
export const SignerKind = { NONE: 0, OPERATOR: 1, TEE: 2 } as const;

/** An ethers Contract bound to an AIGCCollection. */
export function connectCollection(address: string, runner: ContractRunner): Contract {
  return new Contract(address, collectionInterface, runner);
}

export type DeployCollectionParameters = {
  deployer: Signer;
  name: string;
  symbol: string;
  owner: string;
  priceWei: bigint;
  maxSupply: number;
  maxPromptBytes: number;
  refundDelaySeconds: number;
};

/**
 * Deploys an AIGCCollection and waits for it to be mined.
 *
 * @example
 * const { address, blockNumber } = await deployCollection({ deployer, name: 'Dreams', symbol: 'DRM', … });
 */
export async function deployCollection(p: DeployCollectionParameters): Promise<{ address: string; blockNumber: number }> {
  const factory = new ContractFactory(abi, bytecode, p.deployer);
  const contract = await factory.deploy(p.name, p.symbol, p.owner, p.priceWei, p.maxSupply, p.maxPromptBytes, p.refundDelaySeconds);
  const receipt = await contract.deploymentTransaction()!.wait();
  return { address: await contract.getAddress(), blockNumber: receipt!.blockNumber };
}

/**
 * Deploys a collection from a template and authorises `operator` as its provenance signer.
 *
 * @example
 * const { address } = await deployFromTemplate({ deployer, template: loadTemplate('genesis'), operator });
 */
export async function deployFromTemplate({
  deployer,
  template,
  operator,
}: {
  deployer: Signer;
  template: CollectionTemplate;
  operator: string;
}): Promise<{ address: string; blockNumber: number }> {
  const owner = await deployer.getAddress();
  const deployed = await deployCollection({
    deployer,
    name: template.name,
    symbol: template.symbol,
    owner,
    priceWei: BigInt(template.mint.priceWei),
    maxSupply: template.mint.maxSupply,
    maxPromptBytes: template.mint.maxPromptBytes,
    refundDelaySeconds: template.mint.refundDelaySeconds,
  });
  const contract = connectCollection(deployed.address, deployer);
  await (await contract.setSigner(operator, SignerKind.OPERATOR, ZeroHash)).wait();
  return deployed;
}
