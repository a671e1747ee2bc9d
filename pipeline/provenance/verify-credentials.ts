import type { CredentialsRecord } from '../credentials/attach';
import { type CredentialBinding, readCredentials } from '../credentials/credentials';

/** One named check (the shape of `VerifyCheck` in verify.ts). */
type VerifyCheck = { name: string; ok: boolean; detail?: string };

/** What `aigc verify` reports about the image's C2PA Content Credentials. */
export type CredentialsSummary = { present: boolean; valid?: boolean; signer?: string; binding?: CredentialBinding; note?: string };

/**
 * The Content Credentials checks of a token whose manifest says its image carries them (`aigc.credentials`): present,
 * signature and data hash valid over the downloaded bytes, and the binding assertion naming this token (chain id,
 * collection, token id, request seed, model hash as recorded on chain). An image stored without them (AVIF)
 * gets no checks, only the note saying why.
 */
export async function checkCredentials({
  recorded,
  image,
  mime,
  expected,
}: {
  recorded: CredentialsRecord | undefined;
  image: Uint8Array;
  mime: string;
  expected: Omit<CredentialBinding, 'renderSeed'>;
}): Promise<{ checks: VerifyCheck[]; summary?: CredentialsSummary }> {
  if (!recorded) return { checks: [] };
  if (recorded.c2pa === 'not-embedded') return { checks: [], summary: { present: false, note: recorded.reason } };
  const checks: VerifyCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, ...(ok ? {} : { detail }) });
  const report = await readCredentials(image, mime);
  check(
    'C2PA credentials are present in the image',
    report.present,
    report.supported ? 'no C2PA manifest in the image' : `${mime} cannot carry them`,
  );
  if (!report.present) return { checks, summary: { present: false } };
  check('C2PA signature and data hash are valid', report.valid, report.statuses.join('; ') || 'invalid');
  const b = report.binding;
  const same = (x: string | undefined, y: string) => typeof x === 'string' && x.toLowerCase() === y.toLowerCase();
  const matches =
    b !== undefined &&
    b.chainId === expected.chainId &&
    same(b.collection, expected.collection) &&
    b.requestId === expected.requestId &&
    same(b.seed, expected.seed) &&
    same(b.modelHash, expected.modelHash);
  check(
    'C2PA binding names this token (chain, collection, token id, seed, model hash)',
    matches,
    b ? `credentials name ${JSON.stringify(b)}` : 'no binding assertion in the credentials',
  );
  return { checks, summary: { present: true, valid: report.valid, signer: report.signer, binding: b } };
}
