import type { Logger } from 'pino';
import type { GeneratedImage } from '../gateway-client';
import { type CredentialBinding, embedCredentials, type SigningCredentials } from './credentials';
import { APP_NAME, APP_VERSION } from '../version';

/** What the manifest records about the image's Content Credentials (`aigc.credentials`). */
export type CredentialsRecord = { c2pa: 'embedded'; addedBytes: number } | { c2pa: 'not-embedded'; reason: string };

/**
 * The node's Content Credentials step, between the render and the upload: the returned image carries a signed C2PA
 * manifest bound to the token, and its `sha256`/`bytes` are of those final bytes (what goes on Arweave and on chain).
 */
export async function attachCredentials(
  generated: GeneratedImage,
  { credentials, binding, logger }: { credentials: SigningCredentials; binding: CredentialBinding; logger: Logger },
): Promise<{ generated: GeneratedImage; record: CredentialsRecord }> {
  const result = await embedCredentials({
    image: generated.image,
    mime: generated.mime,
    credentials,
    binding,
    agent: {
      model: generated.model.id,
      backend: generated.model.backend,
      version: generated.model.version,
      framework: `${APP_NAME} ${APP_VERSION}`,
    },
  });
  if (!result.embedded) {
    logger.warn({ mime: generated.mime }, `${result.reason}: image stored without Content Credentials`);
    return { generated, record: { c2pa: 'not-embedded', reason: result.reason } };
  }
  logger.debug({ addedBytes: result.addedBytes, signMs: result.signMs }, 'C2PA credentials embedded');
  return {
    generated: { ...generated, image: result.image, sha256: result.sha256, bytes: result.image.length },
    record: { c2pa: 'embedded', addedBytes: result.addedBytes },
  };
}
