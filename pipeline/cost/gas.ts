import { type Contract, getAddress, type JsonRpcProvider, toBeHex, toUtf8Bytes } from 'ethers';
import { connectCollection } from '../chain/collection';
import { AigcError, errorMessage } from '../errors';
import { connectProvider } from '../chain/provider';
import { collectionReads } from '../chain/typed-reads';

/**
 * Gas measured by `npm run bench -- gas` on anvil (README "Gas"): 60-byte prompt, first-time minter, after a warm-up
 * mint. A fulfilment cannot be estimated live: it needs a pending request and a signature from an authorised key.
 */
export const MEASURED_GAS = {
  requestMint: 61_921n,
  fulfill: 97_977n,
  /** Per token, in a `fulfillBatch` of `batchSize`. */
  fulfillBatchPerToken: 70_373n,
  batchSize: 20,
} as const;

/** The prompt bench/gas.ts measures with. */
const SAMPLE_PROMPT = toUtf8Bytes('a lighthouse on a basalt cliff at dawn, soft light, film gra'); // 60 bytes, as bench/gas.ts

/** An address with no history, given a balance by a state override so the estimate does not fail on funds. */
const ESTIMATE_FROM = '0x00000000000000000000000000000000000a1c0e';

export type ChainFees = {
  chainId: number;
  /** EIP-1559 maxFeePerGas (or the legacy gas price), in wei: what a transaction may pay per gas at most. */
  maxFeePerGas: bigint;
};

/**
 * Connects to `rpc` once (a clear error when it does not answer, instead of ethers' endless retries) and returns a
 * provider pinned to its chain.
 */
export async function connectRpc(rpc: string): Promise<JsonRpcProvider> {
  try {
    return await connectProvider(rpc);
  } catch (error) {
    const reason = error instanceof AigcError ? (error.details ?? error.shortMessage) : (error as Error).message;
    throw new AigcError('CHAIN_FAILED', `cannot reach the JSON-RPC endpoint ${rpc}: ${reason}; check --rpc`, {
      cause: error,
      retryable: true,
    });
  }
}

/**
 * The chain's current fee per gas, as the node's sender would offer it (ethers' `getFeeData`).
 *
 * @example
 * const { maxFeePerGas } = await chainFees(provider);
 */
export async function chainFees(provider: JsonRpcProvider): Promise<ChainFees> {
  const [network, fees] = await Promise.all([provider.getNetwork(), provider.getFeeData()]);
  const maxFeePerGas = fees.maxFeePerGas ?? fees.gasPrice;
  if (maxFeePerGas === null) throw new AigcError('CHAIN_FAILED', 'the RPC endpoint reported no gas price');
  return { chainId: Number(network.chainId), maxFeePerGas };
}

export type RequestMintEstimate = { gas: bigint; source: 'eth_estimateGas' | 'measured'; priceWei?: bigint; note?: string };

/**
 * Gas of one `requestMint` on a deployed collection by `eth_estimateGas` (with the mint price read from the chain
 * and, where the node supports state overrides, a funded sender); falls back to the measured figure with the
 * reason when the chain refuses (paused, mint window closed, sold out…).
 *
 * @example
 * const { gas, source } = await estimateRequestMint(provider, '0x…');
 */
export async function estimateRequestMint(provider: JsonRpcProvider, collection: string): Promise<RequestMintEstimate> {
  const contract: Contract = connectCollection(getAddress(collection), provider);
  let priceWei: bigint;
  try {
    if ((await provider.getCode(collection)) === '0x') throw new Error('no contract at this address');
    const [config] = await collectionReads(contract).mintConfig();
    priceWei = config.price;
  } catch (cause) {
    throw new AigcError(
      'CHAIN_FAILED',
      `${collection} is not an AIGC collection on this chain: ${errorMessage(cause)}; check --collection and --rpc`,
      { cause },
    );
  }
  const tx = {
    from: ESTIMATE_FROM,
    to: collection,
    data: contract.interface.encodeFunctionData('requestMint', [SAMPLE_PROMPT]),
    value: toBeHex(priceWei),
  };
  const overrides = { [ESTIMATE_FROM]: { balance: toBeHex(priceWei + 10n ** 18n) } };
  let lastError: unknown;
  for (const params of [[tx, 'latest', overrides], [tx]]) {
    try {
      return { gas: BigInt(await provider.send('eth_estimateGas', params)), source: 'eth_estimateGas', priceWei };
    } catch (error) {
      lastError = error;
    }
  }
  return { gas: MEASURED_GAS.requestMint, source: 'measured', priceWei, note: `eth_estimateGas failed (${errorMessage(lastError)})` };
}
