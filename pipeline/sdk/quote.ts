import { toUtf8Bytes } from 'ethers';
import { collectionReads } from '../chain/typed-reads';
import { AigcError, errorMessage } from '../errors';
import { mintRequestError } from './errors';
import type { ClientContext } from './types';

export type QuoteParameters = {
  /** The prompt to estimate with (gas grows with its length). @defaultValue a 64-byte sample */
  prompt?: string;
};

export type QuoteReturnType = {
  /** The mint price, escrowed by `requestMint`. */
  priceWei: bigint;
  /** Gas of `requestMint` by `eth_estimateGas` from the client's signer. */
  gas: bigint;
  /** The chain's current max fee per gas (or gas price), when it reports one. */
  maxFeePerGas?: bigint;
  /** price + gas × maxFeePerGas: what the payer needs at most. */
  totalWei?: bigint;
};

const SAMPLE_PROMPT = 'a quiet harbour at dawn, oil on canvas, soft light, muted palette..';

/**
 * What a mint costs now: the collection's price and the gas of `requestMint`. The estimate runs as the client's
 * signer (so it needs one, with enough balance); a refusal of the contract (paused, sold out…) throws as in
 * `requestMint`. For Arweave and operator costs see `aigc quote`.
 *
 * @example
 * const { priceWei, totalWei } = await client.quote();
 */
export async function quote(ctx: ClientContext, { prompt = SAMPLE_PROMPT }: QuoteParameters = {}): Promise<QuoteReturnType> {
  if (!ctx.signer)
    throw new AigcError('CONFIG_INVALID', 'quote needs a signer to estimate requestMint from: pass `signer` to createClient');
  let priceWei: bigint;
  try {
    [{ price: priceWei }] = await collectionReads(ctx.contract).mintConfig();
  } catch (cause) {
    throw new AigcError('CHAIN_FAILED', `${ctx.collection} is not an AIGC collection on this chain: ${errorMessage(cause)}`, { cause });
  }
  let gas: bigint;
  try {
    gas = await ctx.provider.estimateGas({
      from: await ctx.signer.getAddress(),
      to: ctx.collection,
      data: ctx.contract.interface.encodeFunctionData('requestMint', [toUtf8Bytes(prompt)]),
      value: priceWei,
    });
  } catch (error) {
    throw mintRequestError(error);
  }
  const fees = await ctx.provider.getFeeData();
  const maxFeePerGas = fees.maxFeePerGas ?? fees.gasPrice ?? undefined;
  return { priceWei, gas, maxFeePerGas, totalWei: maxFeePerGas === undefined ? undefined : priceWei + gas * maxFeePerGas };
}
