import type { ModelInfo, ModerationResult } from '../../protocol/gateway';
import type { CredentialsRecord } from '../credentials/attach';
import type { TraitDefinition } from '../template';

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

/**
 * The traits a token drew (`aigc.traits`): the collection's trait table, how values are drawn from the render seed,
 * and what was drawn. `aigc verify` draws again from the recomputed render seed and compares with `values` and with
 * the manifest's `attributes`.
 */
export type ProvenanceTraits = {
  method: string;
  table: TraitDefinition[];
  values: { trait_type: string; value: string }[];
};

/** The `aigc` block of a token's metadata: everything needed to check how the image was made. */
export type AigcProvenance = {
  collection: string;
  chainId: number;
  requestId: string;
  tokenId: string;
  /** The collector's prompt exactly as requested on chain (keccak256 of its UTF-8 bytes = promptHash). */
  prompt: string;
  promptHash: string;
  /** The prompt the backend received, after the collection's frame and normalisation. */
  renderedPrompt: string;
  negativePrompt: string;
  /** The request seed the contract fixed (bytes32, from `MintRequested`). */
  seed: string;
  /** Hash of the block that holds the request: unknown to the requester when its transaction ran. */
  requestBlockHash: string;
  /** keccak256(abi.encode(seed, requestBlockHash)): the seed rendered and signed (bytes32). */
  renderSeed: string;
  /** The seed the backend used (decimal): the render seed reduced to the width that backend takes. */
  backendSeed: string;
  model: ModelInfo;
  modelHash: string;
  params: { width: number; height: number; steps?: number; guidance?: number };
  image: { sha256: string; mime: string; width: number; height: number; bytes: number };
  generatedAt: string;
  signer: string;
  /** Who vouches for the signer key: operator key, TEE (with its attestation document) or simulated. */
  attestation: ManifestAttestation;
  /** Traits drawn from the render seed, for templates with `traits`; absent otherwise. */
  traits?: ProvenanceTraits;
  /** What the gateway's image moderation scored and did (passed, or blurred); absent when it was off. */
  moderation?: ModerationResult;
  /** Whether the image file carries signed C2PA Content Credentials (templates with `credentials.c2pa`). */
  credentials?: CredentialsRecord;
};

/**
 * OpenSea-compatible metadata, the ERC-7007 metadata fields (`prompt`, `aigc_type`, `aigc_data`, `proof_type`)
 * and the `aigc` provenance block.
 */
export type TokenManifest = {
  name: string;
  description: string;
  image: string;
  attributes: { trait_type: string; value: string | number }[];
  /** ERC-7007: the prompt this token was generated from. */
  prompt: string;
  aigc_type: 'image';
  /** ERC-7007: URI of the generated content (the image). */
  aigc_data: string;
  /** ERC-7007: how `verify` checks it. An EIP-712 signature by an authorised signer, bound on chain at mint. */
  proof_type: 'eip712-signature';
  aigc: AigcProvenance;
};

export type BuildManifestParameters = {
  collectionName: string;
  description: string;
  imageId: string;
  provenance: AigcProvenance;
};

/**
 * Builds the metadata manifest stored on Arweave. All prompt text is carried as JSON string values, so any
 * prompt (quotes, newlines, any Unicode) yields valid JSON.
 */
export function buildManifest({ collectionName, description, imageId, provenance }: BuildManifestParameters): TokenManifest {
  const image = `ar://${imageId}`;
  return {
    name: `${collectionName} #${provenance.tokenId}`,
    description,
    image,
    attributes: [
      { trait_type: 'Model', value: provenance.model.id },
      { trait_type: 'Backend', value: provenance.model.backend },
      { trait_type: 'Seed', value: provenance.backendSeed },
      { trait_type: 'Size', value: `${provenance.params.width}x${provenance.params.height}` },
      ...(provenance.traits?.values ?? []),
    ],
    prompt: provenance.prompt,
    aigc_type: 'image',
    aigc_data: image,
    proof_type: 'eip712-signature',
    aigc: provenance,
  };
}

/** The exact bytes uploaded for a manifest. */
export function serializeManifest(manifest: TokenManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
}
