import { AigcError } from '../errors';

const ARWEAVE_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * An Arweave transaction id (43 base64url characters) as the bytes32 the contract stores.
 *
 * @example
 * arweaveIdToBytes32('bNbA3TEQVL60xlgCcqdz4ZPHFZ711cZ3hmkpGttDt_U') // '0x6cd6c0dd…'
 */
export function arweaveIdToBytes32(id: string): `0x${string}` {
  if (!ARWEAVE_ID.test(id)) throw new AigcError('ARWEAVE_FAILED', `not an Arweave transaction id: "${id}"`);
  return `0x${Buffer.from(id, 'base64url').toString('hex')}`;
}

/** The inverse of {@link arweaveIdToBytes32}. */
export function bytes32ToArweaveId(hex: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new AigcError('ARWEAVE_FAILED', `not a bytes32: "${hex}"`);
  return Buffer.from(hex.slice(2), 'hex').toString('base64url');
}

/** The Arweave id in an `ar://<id>` URI. */
export function parseArUri(uri: string): string {
  const id = uri.startsWith('ar://') ? uri.slice(5) : '';
  if (!ARWEAVE_ID.test(id)) throw new AigcError('VERIFY_FAILED', `not an ar:// URI: "${uri}"`);
  return id;
}
