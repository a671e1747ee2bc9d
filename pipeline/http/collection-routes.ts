import type { Contract } from 'ethers';
import { Router } from 'express';
import type { Logger } from 'pino';
import { collectionReads } from '../chain/typed-reads';
import type { CollectionTemplate } from '../template';
import { cors } from './cors';
import { apiError, apiErrorHandler } from './errors';

/** A collection the node serves, as `GET /v1/collections` describes it. */
export type DescribedCollection = {
  chainId: number;
  address: string;
  template: CollectionTemplate;
  /** The collection bound to a provider of its chain. */
  contract: Contract;
  /** Its deployment block: where a page's event searches start. */
  startBlock: number;
};

/** `GET /v1/collections/:chainId/:address`: what a mint page shows, read from the chain at each call. */
export type CollectionInfo = {
  chainId: number;
  address: string;
  name: string;
  symbol: string;
  description: string;
  /** The collection image URI from the template (`ar://`, `ipfs://`, `https://`); absent when it has none. */
  image?: string;
  priceWei: string;
  maxSupply: number;
  /** Open requests + minted tokens: what counts against `maxSupply`. */
  reserved: number;
  remaining: number;
  maxPromptBytes: number;
  refundDelaySeconds: number;
  /** Unix seconds; 0 = open from the start / never closes. */
  mintStart: number;
  mintEnd: number;
  /** Requests per wallet; 0 = no limit. */
  walletLimit: number;
  paused: boolean;
  presets: { label: string; suffix: string }[];
  /** Timestamp of the latest block: the clock the mint window and refund deadlines are measured by. */
  chainTime: number;
  startBlock: number;
  /** Arweave gateway the node stores through: where the page fetches images and manifests. */
  arweaveGateway: string;
};

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * The read side a mint page needs without an indexer: `GET /v1/collections/:chainId/:address` answers the
 * collection's settings from its template and its live state from the chain (price, supply left, window, pause).
 *
 * @example
 * router.use(createCollectionRouter({ collections, corsOrigins: ['*'], arweaveGateway: 'https://arweave.net', logger }));
 */
export function createCollectionRouter({
  collections,
  corsOrigins,
  arweaveGateway,
  logger,
}: {
  collections: DescribedCollection[];
  corsOrigins: string[];
  arweaveGateway: string;
  logger: Logger;
}): Router {
  const router = Router();
  router.use('/v1/collections', cors(corsOrigins));
  router.get('/v1/collections/:chainId/:address', async (req, res) => {
    const { chainId, address } = req.params;
    const fields: Record<string, string> = {};
    if (!/^[1-9][0-9]{0,15}$/.test(chainId)) fields.chainId = 'a decimal chain id';
    if (!ADDRESS.test(address)) fields.address = 'a 0x-prefixed 20-byte address';
    if (Object.keys(fields).length) throw apiError('INVALID_REQUEST', 'invalid collection lookup', { fields });
    const c = collections.find((x) => x.chainId === Number(chainId) && x.address.toLowerCase() === address.toLowerCase());
    if (!c)
      throw apiError(
        'NOT_FOUND',
        `collection ${address} on chain ${chainId} is not served by this node (it serves ${collections.map((x) => `${x.chainId}/${x.address}`).join(', ')})`,
      );
    res.set('cache-control', 'no-cache').json(await describe(c, arweaveGateway));
  });
  router.use('/v1/collections', apiErrorHandler(logger));
  return router;
}

async function describe(c: DescribedCollection, arweaveGateway: string): Promise<CollectionInfo> {
  const reads = collectionReads(c.contract);
  try {
    const [[config, walletLimit], [, reserved], paused, name, symbol, block] = await Promise.all([
      reads.mintConfig(),
      reads.requestCounts(),
      reads.paused(),
      reads.name(),
      reads.symbol(),
      c.contract.runner!.provider!.getBlock('latest'),
    ]);
    const t = c.template;
    return {
      chainId: c.chainId,
      address: c.address,
      name,
      symbol,
      description: t.description,
      ...(t.image ? { image: t.image } : {}),
      priceWei: config.price.toString(),
      maxSupply: Number(config.maxSupply),
      reserved: Number(reserved),
      remaining: Math.max(0, Number(config.maxSupply) - Number(reserved)),
      maxPromptBytes: Number(config.maxPromptBytes),
      refundDelaySeconds: Number(config.refundDelay),
      mintStart: Number(config.mintStart),
      mintEnd: Number(config.mintEnd),
      walletLimit: Number(walletLimit),
      paused,
      presets: t.presets ?? [],
      chainTime: block?.timestamp ?? Math.floor(Date.now() / 1000),
      startBlock: c.startBlock,
      arweaveGateway: arweaveGateway.replace(/\/+$/, ''),
    };
  } catch (cause) {
    throw Object.assign(apiError('CHAIN_FAILED', 'cannot read the collection from the chain; try again', { retryable: true }), { cause });
  }
}
