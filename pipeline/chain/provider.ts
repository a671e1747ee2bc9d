import { JsonRpcProvider, Network } from 'ethers';
import { AigcError } from '../errors';
import { createHttpClient } from '../net/http-client';
import { NodeJsonRpcProvider } from './json-rpc-transport';

/**
 * A JSON-RPC provider for the node. ethers caches identical calls for 250 ms by default, which hands a
 * just-used nonce to the next transaction of the same sender; the node turns that cache off. Calls go out at once
 * (no 10 ms batching stall). Given `chainId`, the network is fixed, so ethers does not ask `eth_chainId` again
 * before its calls. Over HTTP, calls travel through the node's own HTTP client (`json-rpc-transport.ts`).
 */
export function createProvider(rpcUrl: string, pollingInterval = 250, chainId?: number): JsonRpcProvider {
  const network = chainId === undefined ? undefined : Network.from(chainId);
  const Provider = /^https?:/i.test(rpcUrl) ? NodeJsonRpcProvider : JsonRpcProvider;
  return new Provider(rpcUrl, network, {
    cacheTimeout: -1,
    pollingInterval,
    batchMaxCount: 1,
    ...(network ? { staticNetwork: network } : {}),
  });
}

/**
 * Asks `rpcUrl` for its chain id once, within `timeoutMs`, and returns a provider fixed to that network. Asked
 * directly rather than through ethers, whose network detection retries an unreachable endpoint forever.
 *
 * @example
 * const provider = await connectProvider('http://127.0.0.1:8545');
 */
export async function connectProvider(rpcUrl: string, pollingInterval = 250, timeoutMs = 15_000): Promise<JsonRpcProvider> {
  let chainId: number;
  try {
    const http = createHttpClient({ baseUrl: rpcUrl, name: 'JSON-RPC endpoint', errorCode: 'CHAIN_FAILED', timeoutMs });
    const res = await http.post('', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }), {
      headers: { 'content-type': 'application/json' },
    });
    const body = res.json<{ result?: string; error?: { message: string } }>();
    if (!body.result) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    chainId = Number(body.result);
  } catch (cause) {
    const reason = cause instanceof AigcError ? (cause.details ?? cause.shortMessage) : (cause as Error).message;
    throw new AigcError('CHAIN_FAILED', `cannot reach the chain at ${rpcUrl}: is the RPC URL right and the node up?`, {
      cause,
      retryable: true,
      details: reason,
    });
  }
  return createProvider(rpcUrl, pollingInterval, chainId);
}
