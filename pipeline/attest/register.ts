import { type Signer, type TransactionReceipt, ZeroAddress } from 'ethers';
import { connectCollection, SignerKind } from '../chain/collection';
import { AigcError, errorMessage } from '../errors';
import type { Attester, SignerRegistration } from './types';
import { collectionReads } from '../chain/typed-reads';

export type RegisterSignerParameters = {
  /** The collection's address. */
  collection: string;
  /** The collection's owner, connected to a provider: only it may call `setSigner`. */
  owner: Signer;
  registration: SignerRegistration;
};

/**
 * Authorises a provenance signer on a collection: `setSigner(signer, kind, attestationHash, payee)` sent by the owner,
 * waited for. Refuses with a clear error when `owner` is not the collection's owner.
 *
 * @example
 * await registerSigner({ collection, owner, registration: attester.registration });
 */
export async function registerSigner({ collection, owner, registration }: RegisterSignerParameters): Promise<TransactionReceipt> {
  const contract = connectCollection(collection, owner);
  const [actual, sender] = await Promise.all([collectionReads(contract).owner(), owner.getAddress()]);
  if (actual.toLowerCase() !== sender.toLowerCase())
    throw new AigcError('CHAIN_FAILED', `only the owner of ${collection} (${actual}) can register signers; ${sender} is not it`);
  try {
    const tx = await contract.setSigner(
      registration.signer,
      registration.kind,
      registration.attestationHash,
      registration.payee ?? ZeroAddress,
    );
    return (await tx.wait()) as TransactionReceipt;
  } catch (cause) {
    throw new AigcError('CHAIN_FAILED', `setSigner(${registration.signer}) on ${collection} failed: ${errorMessage(cause)}`, {
      cause,
      retryable: true,
    });
  }
}

export type RegisterTeeSignerParameters = Omit<RegisterSignerParameters, 'registration'> & {
  attester: Pick<Attester, 'kind' | 'registration'>;
};

/**
 * Registers a `tee` attester's key as a TEE signer with the SHA-256 of its attestation document, which `aigc verify`
 * then checks against the document every manifest names. For the CLI, demos and tests: the node never registers
 * its own key.
 *
 * @example
 * const attester = await createTeeAttester({ store });
 * await registerTeeSigner({ collection, owner, attester });
 */
export async function registerTeeSigner({ attester, ...rest }: RegisterTeeSignerParameters): Promise<TransactionReceipt> {
  if (attester.kind !== 'tee' || attester.registration.kind !== SignerKind.TEE)
    throw new AigcError(
      'INVALID_REQUEST',
      `registerTeeSigner needs a tee attester, got ${attester.kind}: use registerSigner for operator keys`,
    );
  return registerSigner({ ...rest, registration: attester.registration });
}
