import { hexlify, randomBytes, TypedDataEncoder, Wallet } from 'ethers';
import {
  FULFILLMENT_TYPES,
  fulfillmentDigest,
  fulfillmentDomain,
  recoverFulfillmentSigner,
  signFulfillment,
} from '../../pipeline/provenance/typed-data';

const bytes32 = () => hexlify(randomBytes(32));
const fulfillment = (requestId: bigint) => ({
  requestId,
  promptHash: bytes32(),
  seed: bytes32(),
  imageSha256: bytes32(),
  manifestId: bytes32(),
  modelHash: bytes32(),
});

describe('fulfillmentDigest', () => {
  it("is ethers' EIP-712 hash of the same fulfilment, for any domain and values", () => {
    for (let i = 0; i < 200; i++) {
      const domain = fulfillmentDomain(BigInt(1 + (i % 7)) * 10_000n + BigInt(i), Wallet.createRandom().address);
      const value = fulfillment(i % 2 ? BigInt(hexlify(randomBytes(32))) : BigInt(i));
      expect(fulfillmentDigest(domain, value)).toBe(TypedDataEncoder.hash(domain, FULFILLMENT_TYPES, value));
    }
  });

  it('refuses fields that are not 32 bytes and ids outside uint256, as the general encoder does', () => {
    const domain = fulfillmentDomain(31337, Wallet.createRandom().address);
    expect(() => fulfillmentDigest(domain, { ...fulfillment(1n), seed: '0x1234' })).toThrow(/32 bytes/);
    expect(() => fulfillmentDigest(domain, { ...fulfillment(1n), modelHash: bytes32() + '00' })).toThrow(/32 bytes/);
    expect(() => fulfillmentDigest(domain, fulfillment(-1n))).toThrow(/uint256/);
    expect(() => fulfillmentDigest(domain, fulfillment(1n << 256n))).toThrow(/uint256/);
  });

  it('signs what verifyTypedData recovers to the signer', async () => {
    const wallet = Wallet.createRandom();
    const domain = fulfillmentDomain(8453, Wallet.createRandom().address);
    const value = fulfillment(42n);
    const signature = await signFulfillment(wallet, domain, value);
    expect(recoverFulfillmentSigner(domain, value, signature)).toBe(wallet.address);
  });
});
