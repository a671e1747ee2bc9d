import { ContractFactory, getCreateAddress, Interface, type JsonRpcProvider } from 'ethers';
import { AigcError, errorMessage } from '../errors';
import { abi, bytecode } from './artifacts/AIGCCollection';
import { abi as factoryAbi, bytecode as factoryBytecode } from './artifacts/CollectionFactory';
import { type CollectionParams, collectionInterface } from './collection';

const factoryInterface = new Interface(factoryAbi);

/**
 * Deployment gas measured by `npm run bench -- gas` (README "Gas"). Creating a collection can only be estimated
 * live once its factory is on chain; before that the measured figure stands in, with a fifth added for longer
 * names, a royalty and a contract URI the bench did not set.
 */
const MEASURED_CREATE_COLLECTION = (233_464n * 12n) / 10n;

/** Gas of one deployment transaction, and where the figure comes from. */
export type DeployGas = { gas: bigint; source: 'eth_estimateGas' | 'measured' };

export type DeployGasEstimate = {
  /** Present when the implementation and factory are still to be deployed. */
  implementation?: DeployGas;
  factory?: DeployGas;
  createCollection: DeployGas;
  total: bigint;
};

/**
 * Gas of deploying a collection from `from`: the implementation and factory (when `factory` is not given, by
 * `eth_estimateGas` of their creation code) and `createCollection(params)` (live on an existing factory, else the
 * measured figure). A `createCollection` the chain refuses (invalid settings) throws with the contract's error.
 *
 * @example
 * const { total } = await estimateDeployGas(provider, { from: deployer, params });
 */
export async function estimateDeployGas(
  provider: JsonRpcProvider,
  { from, factory, params }: { from: string; factory?: string; params: CollectionParams },
): Promise<DeployGasEstimate> {
  const estimate = async (tx: { to?: string; data: string }, what: string): Promise<DeployGas> => {
    try {
      return { gas: await provider.estimateGas({ ...tx, from }), source: 'eth_estimateGas' };
    } catch (cause) {
      throw new AigcError('CHAIN_FAILED', `the chain refuses to ${what}: ${revertReason(cause)}`, { cause });
    }
  };
  if (factory) {
    const data = factoryInterface.encodeFunctionData('createCollection', [params]);
    const createCollection = await estimate({ to: factory, data }, 'create the collection');
    return { createCollection, total: createCollection.gas };
  }
  const implementation = await estimate(
    { data: (await new ContractFactory(abi, bytecode).getDeployTransaction()).data },
    'deploy the implementation',
  );
  // The factory's constructor only needs a non-zero implementation: the address the first deployment will get.
  const predicted = getCreateAddress({ from, nonce: await provider.getTransactionCount(from, 'pending') });
  const factoryGas = await estimate(
    { data: (await new ContractFactory(factoryAbi, factoryBytecode).getDeployTransaction(predicted)).data },
    'deploy the factory',
  );
  const createCollection: DeployGas = { gas: MEASURED_CREATE_COLLECTION, source: 'measured' };
  return { implementation, factory: factoryGas, createCollection, total: implementation.gas + factoryGas.gas + createCollection.gas };
}

/** The contract's custom error by name, else the provider's message. */
function revertReason(error: unknown): string {
  const data = (error as { data?: string }).data;
  if (typeof data === 'string' && data.length >= 10) {
    try {
      const parsed = collectionInterface.parseError(data) ?? factoryInterface.parseError(data);
      if (parsed) return `${parsed.name}(${parsed.args.map(String).join(', ')})`;
    } catch {
      // not one of ours
    }
  }
  return errorMessage(error).split('\n')[0];
}
