import { dataSlice, getBytes, hexlify, keccak256, SigningKey, zeroPadBytes } from 'ethers';

/**
 * The report data a TEE signer's quote binds: keccak256 of its uncompressed public key without the 0x04 prefix
 * (the 64 bytes X‖Y) followed by 32 zero bytes — 64 bytes, the size of configfs-tsm's `inblob`. Bytes 12–31 are the
 * key's Ethereum address (the same hash Ethereum derives addresses from), so a quote names its signer directly.
 *
 * @example
 * const inblob = teeReportData(wallet.signingKey.publicKey); // 0x…<address>…000
 */
export function teeReportData(publicKey: string): Uint8Array {
  const uncompressed = SigningKey.computePublicKey(publicKey, false);
  return getBytes(zeroPadBytes(keccak256(dataSlice(uncompressed, 1)), 64));
}

/** The 64 report-data bytes as 0x hex, as attestation documents carry them. */
export function teeReportDataHex(publicKey: string): string {
  return hexlify(teeReportData(publicKey));
}
