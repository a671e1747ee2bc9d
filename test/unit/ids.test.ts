import { randomBytes } from 'node:crypto';
import { arweaveIdToBytes32, bytes32ToArweaveId, parseArUri } from '../../pipeline/storage/ids';

describe('Arweave ids', () => {
  it('round-trip between base64url and bytes32', () => {
    for (let i = 0; i < 50; i++) {
      const id = randomBytes(32).toString('base64url');
      expect(bytes32ToArweaveId(arweaveIdToBytes32(id))).toBe(id);
    }
  });

  it('refuses what is not an id', () => {
    expect(() => arweaveIdToBytes32('short')).toThrow(/not an Arweave transaction id/);
    expect(() => parseArUri('https://arweave.net/x')).toThrow(/not an ar:\/\/ URI/);
    expect(() => bytes32ToArweaveId('0x1234')).toThrow(/not a bytes32/);
  });
});
