import { JsonRpcProvider } from 'ethers';

/**
 * A JSON-RPC provider for the node. ethers caches identical calls for 250 ms by default, which hands a
 * just-used nonce to the next transaction of the same sender; the node turns that cache off.
 */
export function createProvider(rpcUrl: string, pollingInterval = 250): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, undefined, { cacheTimeout: -1, pollingInterval });
}
