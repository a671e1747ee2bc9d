import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AigcError } from '../errors';

/** Where Linux exposes configfs-tsm attestation reports (kernel ≥ 6.7, in a TDX or SEV-SNP guest). */
export const DEFAULT_TSM_PATH = '/sys/kernel/config/tsm/report';

/** Most bytes `inblob` takes (`TSM_REPORT_INBLOB_MAX`). */
const TSM_INBLOB_SIZE = 64;

export type TsmReport = {
  /** The TSM that produced the report: `tdx_guest`, `sev_guest`, … */
  provider: string;
  /** The attestation report (TDX quote, SEV-SNP report): vendor-specific, signed by the platform. */
  outblob: Buffer;
  /** Extra vendor data (SEV-SNP certificate table) when the provider gives any. */
  auxblob?: Buffer;
  /** The entry's generation the report belongs to. */
  generation: number;
};

export type ReadTsmReportParameters = {
  /** The configfs-tsm report directory (`signer.tsmPath`, `AIGC_TSM_PATH`). */
  tsmPath: string;
  /** Report data the quote must bind: at most 64 bytes. */
  inblob: Uint8Array;
  /**
   * How long to wait for the entry's attributes and for the write to show in `generation`. configfs creates both
   * synchronously, so on a real kernel nothing waits; a directory that is not configfs-tsm fails after this long.
   * @defaultValue 5_000
   */
  timeoutMs?: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * Gets an attestation report through configfs-tsm: `mkdir` a fresh entry, write `inblob`, read `outblob` and
 * `provider`, `rmdir`. The kernel counts writes to an entry in `generation`; it must read one more than before our
 * write, both before and after `outblob` is read — otherwise another process wrote the entry in between and the
 * report may carry its data, so this throws a retryable `ATTESTATION_FAILED`.
 *
 * @example
 * const report = await readTsmReport({ tsmPath: DEFAULT_TSM_PATH, inblob: reportData });
 * console.log(report.provider, report.outblob.length);
 */
export async function readTsmReport({ tsmPath, inblob, timeoutMs = 5_000 }: ReadTsmReportParameters): Promise<TsmReport> {
  if (inblob.length > TSM_INBLOB_SIZE)
    throw new AigcError('INVALID_REQUEST', `inblob takes at most ${TSM_INBLOB_SIZE} bytes, got ${inblob.length}`);
  if (!fs.statSync(tsmPath, { throwIfNoEntry: false })?.isDirectory())
    throw new AigcError(
      'CONFIG_INVALID',
      `no configfs-tsm report directory at ${tsmPath}: the tee attester needs a confidential VM (Intel TDX or AMD SEV-SNP guest, Linux ≥ 6.7, configfs mounted at /sys/kernel/config); set AIGC_TSM_PATH if it is elsewhere`,
    );
  const entry = path.join(tsmPath, `aigc-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await fs.promises.mkdir(entry);
  } catch (cause) {
    throw new AigcError(
      'CONFIG_INVALID',
      `cannot create a report entry in ${tsmPath} (${errno(cause)}): the node needs write access to configfs-tsm (AIGC_TSM_PATH)`,
      { cause },
    );
  }
  const deadline = Date.now() + timeoutMs;
  /** An attribute of the entry; configfs creates them with the directory, so the wait only covers emulations. */
  const attribute = async <T>(name: string, read: (file: string) => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await read(path.join(entry, name));
      } catch (error) {
        if (errno(error) !== 'ENOENT') throw error;
        if (Date.now() > deadline)
          throw new AigcError(
            'CONFIG_INVALID',
            `${entry} has no "${name}" attribute: ${tsmPath} (AIGC_TSM_PATH) is not a configfs-tsm report directory`,
          );
        await sleep(10);
      }
    }
  };
  const generation = () => attribute('generation', async (f) => Number((await fs.promises.readFile(f, 'utf8')).trim()));
  const raced = (before: number, now: number) =>
    new AigcError(
      'ATTESTATION_FAILED',
      `configfs-tsm entry ${entry} was written by another process while the report was made (generation ${before} → ${now}, expected ${before + 1})`,
      { retryable: true },
    );
  try {
    const before = await generation();
    // O_WRONLY without O_CREAT/O_TRUNC: the kernel's attribute, written in one call.
    await attribute('inblob', async (f) => {
      const handle = await fs.promises.open(f, fs.constants.O_WRONLY);
      try {
        await handle.write(inblob);
      } finally {
        await handle.close();
      }
    });
    let after = await generation();
    while (after === before && Date.now() < deadline) {
      await sleep(10);
      after = await generation();
    }
    if (after !== before + 1) throw raced(before, after);
    const outblob = await attribute('outblob', (f) => fs.promises.readFile(f));
    const provider = (await attribute('provider', (f) => fs.promises.readFile(f, 'utf8'))).trim();
    const auxblob = await fs.promises.readFile(path.join(entry, 'auxblob')).catch(() => undefined);
    const last = await generation();
    if (last !== before + 1) throw raced(before, last);
    if (!outblob.length)
      throw new AigcError('ATTESTATION_FAILED', `${provider || 'the TSM'} returned an empty report in ${entry}`, { retryable: true });
    return { provider, outblob, auxblob: auxblob?.length ? auxblob : undefined, generation: last };
  } catch (error) {
    if (error instanceof AigcError) throw error;
    throw new AigcError('ATTESTATION_FAILED', `reading a configfs-tsm report in ${entry} failed: ${(error as Error).message}`, {
      cause: error,
      retryable: true,
    });
  } finally {
    // configfs removes the attributes with the directory. A failed rmdir leaves an inert entry behind; it must not
    // fail an attestation that succeeded.
    await fs.promises.rmdir(entry).catch(() => undefined);
  }
}
