import type { OutputFormat } from '../../protocol/gateway';
import type { CollectionTemplate } from '../template';
import { type ArweavePrice, arweavePrice } from './arweave-price';
import { chainFees, connectRpc, estimateRequestMint, MEASURED_GAS } from './gas';
import { measureSample } from './sample';

export type GasCost = {
  /** Gas per token. */
  gas: bigint;
  /** `eth_estimateGas` on the collection, or the figures measured by `npm run bench -- gas`. */
  source: 'eth_estimateGas' | 'measured';
  paidBy: 'collector' | 'operator';
  perTokenWei: bigint;
  totalWei: bigint;
  note?: string;
};

export type StorageCost = ArweavePrice & { totalWinston: bigint };

export type MintCostEstimate = {
  count: number;
  image: StorageCost & { measured: boolean; format: OutputFormat; width: number; height: number };
  manifest: StorageCost;
  arweave: { url: string; perTokenWinston: bigint; totalWinston: bigint };
  chain: { rpc: string; chainId: number; maxFeePerGas: bigint };
  /** What the collector pays per mint (escrowed, then earned by the operator's signer). */
  mintPrice: { wei: bigint; source: 'template' | 'chain' };
  gas: { requestMint: GasCost; fulfill: GasCost; fulfillBatch: GasCost & { batchSize: number } };
};

export type EstimateMintCostParameters = {
  template: CollectionTemplate;
  count: number;
  /** Arweave gateway whose `/price` is asked. */
  arweave: string;
  /** JSON-RPC endpoint for fees (and the live estimate). */
  rpc: string;
  /** A deployed collection: `requestMint` gas by eth_estimateGas and the price from chain. */
  collection?: string;
  format?: OutputFormat;
  /** Bytes per image instead of the procedural sample's. */
  imageBytes?: number;
  onProgress?: (line: string) => void;
};

/**
 * Estimates what minting `count` tokens of a template costs: Arweave fees for each image and manifest (one
 * transaction each, priced by the gateway), `requestMint` gas for the collector, fulfil gas for the operator (single
 * and batched), all at the chain's current maxFeePerGas.
 *
 * @example
 * const cost = await estimateMintCost({ template: loadTemplate('open-prompt'), count: 100, arweave: 'https://arweave.net', rpc });
 */
export async function estimateMintCost({
  template,
  count,
  arweave,
  rpc,
  collection,
  format,
  imageBytes,
  onProgress = () => {},
}: EstimateMintCostParameters): Promise<MintCostEstimate> {
  onProgress(
    imageBytes === undefined
      ? `rendering a ${template.render.width}×${template.render.height} ${format ?? 'png'} sample with the local renderer…`
      : 'building a sample manifest…',
  );
  const sizes = await measureSample({ template, format, imageBytes });
  onProgress(`asking ${arweave} for prices of ${sizes.imageBytes} + ${sizes.manifestBytes} bytes…`);
  const [image, manifest] = await Promise.all([arweavePrice(arweave, sizes.imageBytes), arweavePrice(arweave, sizes.manifestBytes)]);
  onProgress(`reading gas fees from ${rpc}…`);
  const provider = await connectRpc(rpc);
  try {
    const fees = await chainFees(provider);
    const live = collection ? await estimateRequestMint(provider, collection) : undefined;
    const n = BigInt(count);
    const cost = (gas: bigint, source: GasCost['source'], paidBy: GasCost['paidBy'], note?: string): GasCost => ({
      gas,
      source,
      paidBy,
      perTokenWei: gas * fees.maxFeePerGas,
      totalWei: gas * fees.maxFeePerGas * n,
      ...(note ? { note } : {}),
    });
    const perTokenWinston = image.winston + manifest.winston;
    return {
      count,
      image: {
        ...image,
        totalWinston: image.winston * n,
        measured: sizes.imageMeasured,
        format: sizes.format,
        width: sizes.width,
        height: sizes.height,
      },
      manifest: { ...manifest, totalWinston: manifest.winston * n },
      arweave: { url: arweave, perTokenWinston, totalWinston: perTokenWinston * n },
      chain: { rpc, chainId: fees.chainId, maxFeePerGas: fees.maxFeePerGas },
      mintPrice:
        live?.priceWei !== undefined
          ? { wei: live.priceWei, source: 'chain' }
          : { wei: BigInt(template.mint.priceWei), source: 'template' },
      gas: {
        requestMint: cost(live?.gas ?? MEASURED_GAS.requestMint, live?.source ?? 'measured', 'collector', live?.note),
        fulfill: cost(MEASURED_GAS.fulfill, 'measured', 'operator'),
        fulfillBatch: { ...cost(MEASURED_GAS.fulfillBatchPerToken, 'measured', 'operator'), batchSize: MEASURED_GAS.batchSize },
      },
    };
  } finally {
    provider.destroy();
  }
}
