import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { AigcError, errorMessage } from '../errors';
import { c2paCall } from './worker';

/** Label of the assertion that binds an image to its token (CBOR, in the signed claim). */
export const BINDING_LABEL = 'dev.aigc-nft.binding';
/** IPTC digital source type of every image the pipeline renders. */
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
/** Formats that carry credentials (PNG and JPEG by c2pa-ts, WebP by `WebPAsset`); AVIF is stored without them. */
export const CREDENTIAL_FORMATS = ['image/png', 'image/jpeg', 'image/webp'] as const;

/** What the binding assertion states: where the token is and how its image was made. */
export type CredentialBinding = {
  chainId: number;
  collection: string;
  requestId: string;
  /** The request seed (bytes32) and the render seed derived from it. */
  seed: string;
  renderSeed: string;
  modelHash: string;
};

/** The software that made the image, for the `c2pa.created` action. */
export type SoftwareAgent = { model: string; backend: string; version: string; framework: string };

/** An ES256 signing identity: the leaf certificate first, then its chain (PEM), and the leaf's PKCS#8 key (PEM). */
export type SigningCredentials = { certificates: string[]; key: string };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads the operator's certificate chain (leaf first, then intermediates; PEM) and private key (PKCS#8 PEM). Throws
 * CONFIG_INVALID naming the file, never its content.
 */
export function loadSigningCredentials({ certPath, keyPath }: { certPath: string; keyPath: string }): SigningCredentials {
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (cause) {
      throw new AigcError('CONFIG_INVALID', `cannot read the C2PA ${what} ${file}: ${errorMessage(cause)}`, { cause });
    }
  };
  const certificates = read(certPath, 'certificate chain').match(PEM_CERT) ?? [];
  if (!certificates.length) throw new AigcError('CONFIG_INVALID', `${certPath} holds no PEM certificate (credentials.certPath)`);
  const key = read(keyPath, 'private key');
  if (!/-----BEGIN PRIVATE KEY-----/.test(key))
    throw new AigcError('CONFIG_INVALID', `${keyPath} is not a PKCS#8 PEM private key (credentials.keyPath)`);
  return { certificates, key };
}

export type EmbedResult =
  | { embedded: true; image: Buffer; sha256: string; addedBytes: number; signMs: number }
  | { embedded: false; image: Buffer; sha256: string; reason: string };

/**
 * Embeds a signed C2PA manifest in `image`: a `c2pa.created` action (digital source type trainedAlgorithmicMedia,
 * the software agent), the binding assertion and a hard binding (data hash) of the final bytes. The returned
 * sha256 is of the bytes with the credentials. PNG, JPEG and WebP: AVIF would need a BMFF hash (`c2pa.hash.bmff`)
 * instead of this data hash, so it is returned as it is with the reason (and `aigc verify` says so).
 */
export async function embedCredentials({
  image,
  mime,
  credentials,
  binding,
  agent,
}: {
  image: Buffer;
  mime: string;
  credentials: SigningCredentials;
  binding: CredentialBinding;
  agent: SoftwareAgent;
}): Promise<EmbedResult> {
  if (!(CREDENTIAL_FORMATS as readonly string[]).includes(mime))
    return { embedded: false, image, sha256: sha256(image), reason: `C2PA embedding is not supported for ${mime}` };
  const signed = await c2paCall<{ image: Uint8Array; ms: number }>('sign', {
    image,
    mime,
    certificates: credentials.certificates,
    key: credentials.key,
    instanceId: `xmp:iid:${randomUUID()}`,
    action: {
      action: 'c2pa.created',
      digitalSourceType: TRAINED_ALGORITHMIC_MEDIA,
      softwareAgent: { name: `${agent.backend}/${agent.model}`, version: agent.version },
      parameters: { framework: agent.framework },
    },
    assertions: { [BINDING_LABEL]: binding },
  }).catch((cause: unknown) => {
    throw new AigcError('INTERNAL', `could not sign C2PA credentials: ${errorMessage(cause).split('\n')[0]}`, { cause });
  });
  const out = Buffer.from(signed.image);
  return {
    embedded: true,
    image: out,
    sha256: sha256(out),
    addedBytes: out.length - image.length,
    signMs: Math.round(signed.ms * 10) / 10,
  };
}

/** What an image's C2PA manifest says, as c2pa-ts reads and validates it. */
export type CredentialsReport =
  | { present: false; supported: boolean }
  | {
      present: true;
      supported: true;
      /** Signature, hashed assertions and the data hash over the bytes all check out. */
      valid: boolean;
      /** Why not, when not valid. */
      statuses: string[];
      signer?: string;
      binding?: CredentialBinding;
      created?: { action: string; digitalSourceType?: string; softwareAgent?: { name: string; version?: string } };
    };

/** Reads and validates the C2PA manifest embedded in `image` (PNG, JPEG, WebP). */
export async function readCredentials(image: Uint8Array, mime: string): Promise<CredentialsReport> {
  if (!(CREDENTIAL_FORMATS as readonly string[]).includes(mime)) return { present: false, supported: false };
  const read = await c2paCall<{
    present: boolean;
    valid?: boolean;
    statuses?: string[];
    signer?: string;
    assertions?: Record<string, unknown>;
  }>('read', { image, mime });
  if (!read.present) return { present: false, supported: true };
  const actions = (read.assertions?.['c2pa.actions.v2'] as { actions?: CredentialsReportCreated[] } | undefined)?.actions ?? [];
  return {
    present: true,
    supported: true,
    valid: read.valid === true,
    statuses: read.statuses ?? [],
    signer: read.signer,
    binding: read.assertions?.[BINDING_LABEL] as CredentialBinding | undefined,
    created: actions.find((a) => a.action === 'c2pa.created'),
  };
}

type CredentialsReportCreated = { action: string; digitalSourceType?: string; softwareAgent?: { name: string; version?: string } };

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
