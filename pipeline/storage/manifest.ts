import type { ModelInfo } from '../../services/diffusion-gateway/backends/types';
import type { ManifestAttestation } from '../attest/types';

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
  /** The on-chain seed (bytes32) and the 32-bit seed derived from it that the backend used. */
  seed: string;
  renderSeed: number;
  model: ModelInfo;
  modelHash: string;
  params: { width: number; height: number; steps?: number; guidance?: number };
  image: { sha256: string; mime: string; width: number; height: number; bytes: number };
  generatedAt: string;
  signer: string;
  /** Who vouches for the signer key: operator key, TEE (with its attestation document) or simulated. */
  attestation: ManifestAttestation;
  aigc_type: 'image';
  proof_type: 'eip712-signature';
};

/** OpenSea-compatible metadata plus the `aigc` provenance block. */
export type TokenManifest = {
  name: string;
  description: string;
  image: string;
  attributes: { trait_type: string; value: string | number }[];
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
  return {
    name: `${collectionName} #${provenance.tokenId}`,
    description,
    image: `ar://${imageId}`,
    attributes: [
      { trait_type: 'Model', value: provenance.model.id },
      { trait_type: 'Backend', value: provenance.model.backend },
      { trait_type: 'Seed', value: provenance.renderSeed },
      { trait_type: 'Size', value: `${provenance.params.width}x${provenance.params.height}` },
    ],
    aigc: provenance,
  };
}

/** The exact bytes uploaded for a manifest. */
export function serializeManifest(manifest: TokenManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
}
