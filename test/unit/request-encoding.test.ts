import { AbiCoder, getAddress, hexlify, keccak256, randomBytes } from 'ethers';
import { collectionInterface } from '../../pipeline/chain/collection';
import { isPendingCalldata } from '../../pipeline/chain/pending-reads';
import { type MintRequestJson, renderSeedOf, requestKey, requestStruct } from '../../pipeline/chain/request';

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

describe('requestKey and renderSeedOf', () => {
  const coder = AbiCoder.defaultAbiCoder();
  it("are keccak256 of ethers' abi.encode of the same values (what the contract stores and what verify recomputes)", () => {
    for (let i = 0; i < 300; i++) {
      const r = request(i);
      const s = requestStruct(r);
      expect(requestKey(r)).toBe(
        keccak256(
          coder.encode(
            ['tuple(address,uint96,address,uint64,uint8,bytes32,bytes32)'],
            [[s.requester, s.paid, s.recipient, s.deadline, s.counted, s.seed, s.promptHash]],
          ),
        ),
      );
      expect(renderSeedOf(r)).toBe(keccak256(coder.encode(['bytes32', 'bytes32'], [r.seed, r.blockHash])));
    }
  });

  it('refuses a block hash or seed that is not 32 bytes', () => {
    expect(() => renderSeedOf({ seed: '0x12', blockHash: hexlify(randomBytes(32)) })).toThrow(/32 bytes/);
    expect(() => requestKey({ ...request(2), counted: 256 })).toThrow(RangeError);
  });
});
