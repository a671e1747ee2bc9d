import type { Wallet } from 'ethers';
import type { AttesterKind, ManifestAttestation } from '../storage/manifest';

/** Defined with the manifest format they are part of (`aigc.attestation`). */
export type { AttesterKind, ManifestAttestation };

/** What the collection owner registers on chain for the key: `setSigner(signer, kind, attestationHash, payee)`. */
export type SignerRegistration = {
  signer: string;
  /** `SignerKind`: 1 = OPERATOR, 2 = TEE. */
  kind: number;
  /** 0x-prefixed SHA-256 of the attestation document's bytes (`tee`); the zero hash otherwise. */
  attestationHash: string;
  /**
   * Receives the key's earnings (`signer.payee` in the node's config); absent = the key itself. Set it for keys made
   * anew at every start (tee, simulated), whose earnings would otherwise wait on a key that no longer exists.
   */
  payee?: string;
};

/**
 * The provenance signer: a key, what manifests say about it, and how the owner authorises it. Created once per
 * node by `createAttester`; the node connects `wallet` to its provider to sign and to send fulfilments.
 */
export type Attester = {
  kind: AttesterKind;
  /** The signing key, not connected to a provider. A `tee` key exists only in this process's memory. */
  wallet: Wallet;
  attestation: ManifestAttestation;
  registration: SignerRegistration;
};
