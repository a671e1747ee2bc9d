import { JsonRpcProvider, Network } from 'ethers';
import { AigcError } from '../errors';

/**
 * A JSON-RPC provider for the node. ethers caches identical calls for 250 ms by default, which hands a
 * just-used nonce to the next transaction of the same sender; the node turns that cache off. Calls go out at once
 * (no 10 ms batching stall). Given `chainId`, the network is fixed, so ethers does not ask `eth_chainId` again
 * before its calls.
 */
export function createProvider(rpcUrl: string, pollingInterval = 250, chainId?: number): JsonRpcProvider {
  const network = chainId === undefined ? undefined : Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, { cacheTimeout: -1, pollingInterval, batchMaxCount: 1, ...(network ? { staticNetwork: network } : {}) });
}

/**
 * Asks `rpcUrl` for its chain id once and returns a provider fixed to that network.
 *
 * @example
 * const provider = await connectProvider('http://127.0.0.1:8545');
 */
export async function connectProvider(rpcUrl: string, pollingInterval = 250): Promise<JsonRpcProvider> {
  const probe = createProvider(rpcUrl, pollingInterval);
  try {
    const chainId = Number((await probe.getNetwork()).chainId);
    return createProvider(rpcUrl, pollingInterval, chainId);
  } catch (cause) {
    throw new AigcError('CHAIN_FAILED', `cannot reach the chain at ${rpcUrl}: is the RPC URL right and the node up?`, { cause, retryable: true });
  } finally {
    probe.destroy();
  }
}
