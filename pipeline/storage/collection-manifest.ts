import type { CollectionTemplate } from '../template';
import { APP_NAME, APP_VERSION } from '../version';
import type { ArweaveStore } from './arweave';
import { arweaveIdToBytes32 } from './ids';

/**
 * ERC-7572 contract-level metadata (what `contractURI()` points to), with the OpenSea royalty fields marketplaces
 * still read. Absent fields are left out rather than empty.
 */
export type CollectionManifest = {
  name: string;
  symbol: string;
  description: string;
  image?: string;
  banner_image?: string;
  external_link?: string;
  /** Royalty in basis points and its receiver, as the contract's ERC-2981 `royaltyInfo` answers. */
  seller_fee_basis_points: number;
  fee_recipient?: string;
};

/** The collection manifest a template describes. `royaltyReceiver` is where the contract sends royalties. */
function buildCollectionManifest(template: CollectionTemplate, royaltyReceiver: string): CollectionManifest {
  const bps = template.royalty?.bps ?? 0;
  return {
    name: template.name,
    symbol: template.symbol,
    description: template.description,
    ...(template.image ? { image: template.image } : {}),
    ...(template.bannerImage ? { banner_image: template.bannerImage } : {}),
    ...(template.externalLink ? { external_link: template.externalLink } : {}),
    seller_fee_basis_points: bps,
    ...(bps ? { fee_recipient: royaltyReceiver } : {}),
  };
}

/**
 * Stores the collection manifest on Arweave and returns its id as the bytes32 a collection is created with
 * (`InitParams.contractManifest`) or given later (`setContractURI`).
 *
 * @example
 * const contractManifest = await uploadCollectionManifest(store, template, owner);
 * await deployFromTemplate({ deployer, template, operator, contractManifest });
 */
export async function uploadCollectionManifest(
  store: Pick<ArweaveStore, 'upload'>,
  template: CollectionTemplate,
  royaltyReceiver: string,
): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(buildCollectionManifest(template, royaltyReceiver), null, 2), 'utf8');
  const id = await store.upload(bytes, {
    'Content-Type': 'application/json',
    'App-Name': APP_NAME,
    'App-Version': APP_VERSION,
    Type: 'collection-manifest',
  });
  return arweaveIdToBytes32(id);
}
