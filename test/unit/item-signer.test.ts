import { randomBytes } from 'node:crypto';
import { DataItem } from 'arbundles';
import { getBytes, hexlify, verifyMessage, Wallet } from 'ethers';
import { ethereumItemSigner, signItem } from '../../pipeline/storage/bundle';

describe('Ethereum data-item signer', () => {
  const wallet = Wallet.createRandom();
  const signer = ethereumItemSigner(wallet.privateKey);

  it("signs exactly as ethers' signMessage (EIP-191, low-s, v = 27 + recovery id)", () => {
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(48);
      const signature = signer.sign(message) as Uint8Array;
      expect(hexlify(signature)).toBe(wallet.signMessageSync(message));
      expect(verifyMessage(message, hexlify(signature))).toBe(wallet.address);
    }
  });

  it("signs through libsecp256k1's native binding, never the package's fallback to elliptic", () => {
    // elliptic's ECDSA can truncate a nonce with leading zero bytes (indutny/elliptic#344, all versions): a faulty
    // signature beside a correct one for the same message gives the key away. The node's keys must not sign there.
    expect(require.cache[require.resolve('secp256k1/bindings')]).toBeDefined();
    expect(require.cache[require.resolve('secp256k1/elliptic')]).toBeUndefined();
  });

  it('makes ANS-104 items that verify and name the key as owner', async () => {
    const item = await signItem(signer, randomBytes(1_000), { 'Content-Type': 'application/octet-stream' });
    const parsed = new DataItem(item.raw);
    expect(await DataItem.verify(item.raw)).toBe(true);
    expect(parsed.signatureType).toBe(3);
    expect(hexlify(parsed.rawOwner)).toBe(wallet.signingKey.publicKey);
    // one flipped byte of data breaks the signature
    const tampered = Buffer.from(item.raw);
    tampered[tampered.length - 1] ^= 1;
    expect(await DataItem.verify(tampered)).toBe(false);
    expect(getBytes(parsed.rawSignature)).toHaveLength(65);
  });
});
