import { hexlify, randomBytes, Wallet } from 'ethers';
import { SignerKind } from '../chain/collection';
import { AigcError } from '../errors';
import { APP_NAME, APP_VERSION } from '../version';
import type { ArweaveStore } from '../storage/arweave';
import { ATTESTATION_FORMAT, type AttestationDocument, attestationHash, serializeAttestationDocument } from './document';
import { quoteReportData } from './tee-quote';
import { teeReportData } from './report-data';
import { DEFAULT_TSM_PATH, readTsmReport, type TsmReport } from './tsm';
import type { Attester } from './types';

export type CreateTeeAttesterParameters = {
  /** Stores the attestation document (the node's Arweave store). */
  store: Pick<ArweaveStore, 'upload'>;
  /** configfs-tsm report directory (`signer.tsmPath`, `AIGC_TSM_PATH`). @defaultValue /sys/kernel/config/tsm/report */
  tsmPath?: string;
  /** Reports tried when another process races our configfs entry. @defaultValue 3 */
  attempts?: number;
  /** Passed to `readTsmReport`. @defaultValue 5_000 */
  timeoutMs?: number;
};

/** A `tee` attester, with the document it uploaded and that document's exact bytes. */
export type TeeAttester = Attester & { kind: 'tee'; document: AttestationDocument; documentBytes: Buffer };

/**
 * The `tee` attester, for a node running in a confidential VM. The signing key is generated here and lives only in
 * this process's memory (never written to disk or logs): a new key per start. Its public key is bound into a
 * hardware quote through configfs-tsm (report data = `teeReportData(publicKey)`), the quote and key go into an
 * attestation document on Arweave, and every manifest names that document. The collection owner then registers the
 * key with `registerTeeSigner` (`setSigner(address, TEE, sha256(document))`); the node does not register itself.
 *
 * @example
 * const attester = await createTeeAttester({ store });
 * console.log(attester.wallet.address, attester.attestation.document, attester.registration.attestationHash);
 */
export async function createTeeAttester({
  store,
  tsmPath = DEFAULT_TSM_PATH,
  attempts = 3,
  timeoutMs,
}: CreateTeeAttesterParameters): Promise<TeeAttester> {
  const wallet = new Wallet(hexlify(randomBytes(32)));
  const publicKey = wallet.signingKey.publicKey;
  const reportData = teeReportData(publicKey);

  let report: TsmReport | undefined;
  for (let attempt = 1; !report; attempt++) {
    try {
      report = await readTsmReport({ tsmPath, inblob: reportData, timeoutMs });
    } catch (error) {
      if (!(error instanceof AigcError && error.retryable) || attempt >= attempts) throw error;
    }
  }
  const bound = quoteReportData(report.provider, report.outblob);
  if (bound && hexlify(bound) !== hexlify(reportData))
    throw new AigcError('ATTESTATION_FAILED', `the ${report.provider} report does not carry this key's report data`, {
      details: `expected ${hexlify(reportData)}, report has ${hexlify(bound)}`,
    });

  const document: AttestationDocument = {
    format: ATTESTATION_FORMAT,
    provider: report.provider,
    reportData: hexlify(reportData),
    publicKey,
    address: wallet.address,
    quote: report.outblob.toString('base64'),
    ...(report.auxblob ? { auxblob: report.auxblob.toString('base64') } : {}),
    createdAt: new Date().toISOString(),
  };
  const documentBytes = serializeAttestationDocument(document);
  const hash = attestationHash(documentBytes);
  const id = await store.upload(documentBytes, {
    'Content-Type': 'application/json',
    'App-Name': APP_NAME,
    'App-Version': APP_VERSION,
    Type: 'attestation',
    Signer: wallet.address,
    'TEE-Provider': report.provider,
    'Attestation-SHA256': hash.slice(2),
  });
  return {
    kind: 'tee',
    wallet,
    attestation: { type: 'tee', document: id, provider: report.provider },
    registration: { signer: wallet.address, kind: SignerKind.TEE, attestationHash: hash },
    document,
    documentBytes,
  };
}
