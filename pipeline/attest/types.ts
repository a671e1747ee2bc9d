import type { Wallet } from 'ethers';

/** Who vouches for the provenance signer key. */
export type AttesterKind = 'operator' | 'tee' | 'simulated';

/**
 * What every manifest the key signs says about the key (`aigc.attestation`):
 * - `operator`: a key the operator holds; trust rests on the collection owner having authorised it.
 * - `tee`: a key generated inside a confidential VM; `document` is the Arweave id of the attestation document
 *   (quote + public key) whose SHA-256 the collection stores for the key, `provider` the TEE (`tdx_guest`, `sev_guest`).
 * - `simulated`: a throwaway development key; NOT an attestation of anything.
 */
export type ManifestAttestation = {
  type: AttesterKind;
  /** Arweave id of the attestation document (`tee` only). */
  document?: string;
  /** configfs-tsm provider that produced the quote (`tee` only). */
  provider?: string;
};

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
