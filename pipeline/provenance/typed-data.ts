import { BaseWallet, hexlify, Signature, type Signer, type TypedDataDomain, TypedDataEncoder, verifyTypedData } from 'ethers';
import { signDigest } from '../crypto/sign-digest';

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

/** The digest the contract recovers the signer from. */
export function fulfillmentDigest(domain: TypedDataDomain, value: Fulfillment): string {
  return TypedDataEncoder.hash(domain, FULFILLMENT_TYPES, value);
}

/**
 * Signs a fulfilment with the operator's key. The signature is in EIP-2098 compact form (64 bytes: r and yParity·s),
 * which the contract accepts beside the 65-byte form: one calldata word and one log word less per token.
 *
 * @example
 * const signature = await signFulfillment(wallet, fulfillmentDomain(31337, collection), fulfillment);
 */
export async function signFulfillment(signer: Signer, domain: TypedDataDomain, value: Fulfillment): Promise<string> {
  // A key held in this process (operator and TEE attesters) signs the digest natively: one signature per request.
  const full =
    signer instanceof BaseWallet
      ? hexlify(signDigest(signer.privateKey, fulfillmentDigest(domain, value)))
      : await signer.signTypedData(domain, FULFILLMENT_TYPES, value);
  return Signature.from(full).compactSerialized;
}

/** The address that produced `signature` over `value`. */
export function recoverFulfillmentSigner(domain: TypedDataDomain, value: Fulfillment, signature: string): string {
  return verifyTypedData(domain, FULFILLMENT_TYPES, value, signature);
}
