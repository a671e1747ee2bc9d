import { getAddress, hexlify, randomBytes } from 'ethers';
import { collectionInterface } from '../../pipeline/chain/collection';
import { isPendingCalldata } from '../../pipeline/chain/pending-reads';
import { type MintRequestJson, requestStruct } from '../../pipeline/chain/request';

const randomAddress = () => getAddress(hexlify(randomBytes(20)));

const request = (i: number): MintRequestJson => ({
  requestId: i % 3 ? String(i) : BigInt(hexlify(randomBytes(32))).toString(),
  requester: randomAddress(),
  recipient: i % 2 ? randomAddress().toLowerCase() : randomAddress(),
  paid: BigInt(hexlify(randomBytes(12))).toString(),
  deadline: BigInt(hexlify(randomBytes(8))).toString(),
  counted: i % 3,
  seed: hexlify(randomBytes(32)),
  promptHash: hexlify(randomBytes(32)),
  prompt: 'p',
  blockNumber: 1,
  blockHash: hexlify(randomBytes(32)),
  transactionHash: hexlify(randomBytes(32)),
});

describe('isPendingCalldata', () => {
  it("is ethers' encoding of isPending(requestId, request) for any request", () => {
    for (let i = 0; i < 300; i++) {
      const r = request(i);
      expect(isPendingCalldata(r)).toBe(collectionInterface.encodeFunctionData('isPending', [r.requestId, requestStruct(r)]));
    }
  });

  it('refuses values that do not fit their Solidity types instead of encoding other bytes', () => {
    const r = request(1);
    expect(() => isPendingCalldata({ ...r, paid: (1n << 96n).toString() })).toThrow(RangeError);
    expect(() => isPendingCalldata({ ...r, deadline: (1n << 64n).toString() })).toThrow(RangeError);
    expect(() => isPendingCalldata({ ...r, requestId: '-1' })).toThrow(RangeError);
    expect(() => isPendingCalldata({ ...r, requester: '0x1234' })).toThrow(/not an address/);
    expect(() => isPendingCalldata({ ...r, seed: '0x12' })).toThrow(/32 bytes/);
  });
});
