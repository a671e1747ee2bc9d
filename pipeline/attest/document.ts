import { createHash } from 'node:crypto';
import { computeAddress, getAddress, hexlify } from 'ethers';
import { quoteReportData } from './tee-quote';
import { teeReportDataHex } from './report-data';

export const ATTESTATION_FORMAT = 'aigc-tee-attestation/1';

/**
 * The document that binds a TEE signer key to a hardware quote, stored on Arweave (tag `Type: attestation`). Its
 * SHA-256 is what the collection stores for the key (`signerInfo(signer).attestation`).
 */
export type AttestationDocument = {
  format: typeof ATTESTATION_FORMAT;
  /** configfs-tsm provider: `tdx_guest`, `sev_guest`, … */
  provider: string;
  /** The 64 bytes written to `inblob`, 0x hex: keccak256(public key X‖Y) ‖ 32 zero bytes (see `teeReportData`). */
  reportData: string;
  /** Uncompressed secp256k1 public key, 0x04… */
  publicKey: string;
  /** The key's Ethereum address: the provenance signer. */
  address: string;
  /** The report (`outblob`), base64. */
  quote: string;
  /** `auxblob` (SEV-SNP certificates), base64, when the provider gave one. */
  auxblob?: string;
  createdAt: string;
};

/** The exact bytes uploaded (and hashed) for a document. */
export function serializeAttestationDocument(document: AttestationDocument): Buffer {
  return Buffer.from(JSON.stringify(document, null, 2), 'utf8');
}

/**
 * The hash registered on chain for a TEE signer: SHA-256 of the document's bytes as stored on Arweave, 0x-prefixed
 * (what `sha256sum` prints for the downloaded file).
 *
 * @example
 * await collection.setSigner(address, SignerKind.TEE, attestationHash(bytes));
 */
export function attestationHash(bytes: Uint8Array): string {
  return `0x${createHash('sha256').update(bytes).digest('hex')}`;
}

export type DocumentCheck = { name: string; ok: boolean; detail?: string };

/**
 * Checks that a document binds `signer`: the address is the signer and derives from the public key, the report data
 * is the hash of that key, and the quote carries that report data (for the report formats `quoteReportData` reads).
 * The quote's signature chain to Intel/AMD is not checked here.
 *
 * @example
 * const failed = checkAttestationDocument(doc, signer).filter((c) => !c.ok);
 */
export function checkAttestationDocument(document: AttestationDocument, signer: string): DocumentCheck[] {
  const checks: DocumentCheck[] = [];
  const check = (name: string, ok: boolean, detail?: string) => checks.push({ name, ok, ...(ok ? {} : { detail }) });
  let derived = '';
  try {
    derived = computeAddress(document.publicKey);
  } catch {
    // reported by the check below
  }
  check('attestation document names the signer', sameAddress(document.address, signer), `document names ${document.address}`);
  check(
    'document public key derives the signer address',
    derived !== '' && sameAddress(derived, signer),
    `public key gives ${derived || 'nothing'}`,
  );
  const expected = derived ? teeReportDataHex(document.publicKey) : '';
  check(
    'report data is keccak256 of the public key',
    expected !== '' && document.reportData?.toLowerCase() === expected,
    `report data ${document.reportData}`,
  );
  const inQuote = quoteReportData(document.provider, Buffer.from(document.quote ?? '', 'base64'));
  if (inQuote) check(`${document.provider} quote carries the report data`, hexlify(inQuote) === expected, `quote has ${hexlify(inQuote)}`);
  return checks;
}

function sameAddress(a: string, b: string): boolean {
  try {
    return getAddress(a) === getAddress(b);
  } catch {
    return false;
  }
}
