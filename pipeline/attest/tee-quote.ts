/**
 * Where the 64 bytes of report data sit in each provider's report. Only the location is read here: checking the
 * report's signature chain back to Intel or AMD needs the vendor's collateral and is left to their tools.
 */
const REPORT_DATA_SIZE = 64;

/** TDX quote v4: 48-byte header, then the TD quote body, whose REPORTDATA starts at byte 520. */
const TDX_V4_OFFSET = 48 + 520;
/** TDX quote v5: header, then a body descriptor (type u16, size u32) before the same body. */
const TDX_V5_OFFSET = 48 + 6 + 520;
/** SEV-SNP ATTESTATION_REPORT: REPORT_DATA at 0x50. */
const SNP_OFFSET = 0x50;

/**
 * The report data a configfs-tsm report binds, for the formats we know (`tdx_guest` quote v4/v5, `sev_guest`
 * attestation report); undefined for other providers or a report too short to hold it.
 *
 * @example
 * const data = quoteReportData('tdx_guest', outblob); // 64 bytes: what was written to inblob
 */
export function quoteReportData(provider: string, report: Uint8Array): Uint8Array | undefined {
  const at = (offset: number) =>
    report.length >= offset + REPORT_DATA_SIZE ? report.subarray(offset, offset + REPORT_DATA_SIZE) : undefined;
  if (provider === 'sev_guest') return at(SNP_OFFSET);
  if (provider === 'tdx_guest' && report.length >= 2) {
    const version = report[0] | (report[1] << 8);
    if (version === 4) return at(TDX_V4_OFFSET);
    if (version === 5) return at(TDX_V5_OFFSET);
  }
  return undefined;
}
