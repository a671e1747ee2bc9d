import { createHash } from 'node:crypto';
import { SignerKind } from '../chain/collection';
import { type AttestationDocument, checkAttestationDocument } from '../attest/document';
import { quoteReportData } from '../attest/tee-quote';
import type { ManifestAttestation } from '../attest/types';
import { errorMessage } from '../errors';

/** What a token's manifest says vouches for its signer, as `aigc verify` reports it. */
export type AttestationSummary = ManifestAttestation & {
  /** True only for a hardware attestation (`tee`); `simulated` proves nothing. */
  hardware: boolean;
  /** One line for people. */
  note: string;
};

export type CheckAttestationParameters = {
  attestation: ManifestAttestation | undefined;
  /** The signer recovered from the fulfilment. */
  signer: string;
  /** `signerInfo(signer)` on chain: kind and attestation hash. */
  signerKind: bigint;
  onChainAttestation: string;
  download(id: string): Promise<Uint8Array>;
};

type Check = { name: string; ok: boolean; detail?: string };

/**
 * Checks the manifest's `attestation` against the chain: the type is reported (`simulated` as not a real
 * attestation); for `tee`, the signer must be a TEE signer on chain, the document the manifest names must hash
 * (SHA-256) to the `signerInfo(signer).attestation` the owner registered, and the document must bind the signer key
 * (address, public key, report data, and the report data inside the quote for TDX and SEV-SNP). The quote's
 * signature chain to Intel/AMD is left to the vendors' tools.
 *
 * @example
 * const { summary, checks } = await checkAttestation({ attestation: manifest.aigc.attestation, signer, signerKind, onChainAttestation, download });
 */
export async function checkAttestation(p: CheckAttestationParameters): Promise<{ summary: AttestationSummary; checks: Check[] }> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail?: string) => checks.push({ name, ok, ...(ok ? {} : { detail }) });
  const type = p.attestation?.type;
  if (type === 'operator')
    return {
      summary: { type, hardware: false, note: 'an operator key the collection owner authorised (no hardware attestation)' },
      checks,
    };
  if (type === 'simulated') return { summary: { type, hardware: false, note: 'a development key, NOT a real attestation' }, checks };
  if (type !== 'tee') {
    check('manifest states a known attestation type', false, `attestation type ${JSON.stringify(type)}`);
    return { summary: { type: 'operator', hardware: false, note: `unknown attestation type ${JSON.stringify(type)}` }, checks };
  }

  const { document: id, provider } = p.attestation!;
  const summary: AttestationSummary = {
    type,
    document: id,
    provider,
    hardware: true,
    note: `${provider ?? 'unknown provider'} quote, document ar://${id}`,
  };
  // A TEE key is made anew at every start, so the owner retires old ones (kind NONE, attestation hash kept): their
  // tokens stay verifiable. A key marked COMPROMISED is not accepted.
  const registered =
    p.signerKind === BigInt(SignerKind.TEE) || (p.signerKind === BigInt(SignerKind.NONE) && /^0x0*$/.test(p.onChainAttestation) === false);
  check('signer is (or was, and was retired) a TEE signer on chain', registered, `signer kind ${p.signerKind}`);
  if (!id) {
    check('manifest names the attestation document', false, 'no document id');
    return { summary, checks };
  }
  let bytes: Uint8Array;
  try {
    bytes = await p.download(id);
  } catch (error) {
    check('attestation document is on Arweave', false, errorMessage(error));
    return { summary, checks };
  }
  const sha = `0x${createHash('sha256').update(bytes).digest('hex')}`;
  check(
    'attestation document hashes to the on-chain signerInfo attestation',
    sha === p.onChainAttestation.toLowerCase(),
    `document ${sha}, chain ${p.onChainAttestation}`,
  );
  let document: AttestationDocument;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8')) as AttestationDocument;
  } catch {
    check('attestation document is JSON', false, 'not valid JSON');
    return { summary, checks };
  }
  checks.push(...checkAttestationDocument(document, p.signer));
  if (document.provider !== provider)
    check('manifest and document name the same TEE provider', false, `manifest ${provider}, document ${document.provider}`);
  if (!quoteReportData(document.provider, Buffer.from(document.quote ?? '', 'base64')))
    summary.note += `; the ${document.provider} report format is not read here, so the quote's report data was not compared`;
  summary.note += "; the quote's signature chain (Intel/AMD) is not checked here";
  return { summary, checks };
}
