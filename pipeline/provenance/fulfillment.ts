import type { TypedDataDomain } from 'ethers';

/**
 * What a fulfilment signature covers: its EIP-712 types and domain. Free of Node.js and native code, so the mint page
 * (which checks a token in the browser) uses the very same definitions as the node that signs.
 */

/** EIP-712 types of a fulfilment; must match `FULFILLMENT_TYPEHASH` in AIGCCollection.sol. */
export const FULFILLMENT_TYPES = {
  Fulfillment: [
    { name: 'requestId', type: 'uint256' },
    { name: 'promptHash', type: 'bytes32' },
    { name: 'seed', type: 'bytes32' },
    { name: 'imageSha256', type: 'bytes32' },
    { name: 'manifestId', type: 'bytes32' },
    { name: 'modelHash', type: 'bytes32' },
  ],
};

export type Fulfillment = {
  requestId: bigint;
  promptHash: string;
  /** The request seed (the render seed is derived from it and stated in the manifest that `manifestId` names). */
  seed: string;
  imageSha256: string;
  manifestId: string;
  modelHash: string;
};

/** The domain binds a signature to one collection on one chain, so it cannot be replayed elsewhere. */
export function fulfillmentDomain(chainId: bigint | number, collection: string): TypedDataDomain {
  return { name: 'AIGCCollection', version: '2', chainId, verifyingContract: collection };
}
