import { hexlify, keccak256, randomBytes, toUtf8Bytes, Wallet, Signature } from 'ethers';
import { connectCollection, deployFromTemplate } from '../../pipeline/chain/collection';
import { createProvider } from '../../pipeline/chain/provider';
import { type Anvil, startAnvil } from '../../pipeline/embedded/anvil';
import { FULFILLMENT_TYPES, fulfillmentDigest, fulfillmentDomain, recoverFulfillmentSigner, signFulfillment } from '../../pipeline/provenance/typed-data';
import { loadTemplate } from '../../pipeline/template';

// Uses a real anvil: the point is that the node's digest equals the one the deployed contract computes.
let anvil: Anvil;
afterAll(() => anvil?.stop());

describe('EIP-712 fulfilment digest', () => {
  it('equals the contract’s, for random values, and signatures recover to the signer', async () => {
    anvil = await startAnvil({ accounts: 2 });
    const provider = createProvider(anvil.rpcUrl);
    const deployer = new Wallet(anvil.privateKeys[0], provider);
    const { address } = await deployFromTemplate({ deployer, template: loadTemplate('open-prompt'), operator: deployer.address });
    const contract = connectCollection(address, provider);
    const domain = fulfillmentDomain(anvil.chainId, address);
    for (let i = 0; i < 5; i++) {
      const value = {
        requestId: BigInt(hexlify(randomBytes(8))),
        promptHash: keccak256(toUtf8Bytes(`prompt ${i} "quoted" ✨`)),
        seed: hexlify(randomBytes(32)),
        imageSha256: hexlify(randomBytes(32)),
        manifestId: hexlify(randomBytes(32)),
        modelHash: hexlify(randomBytes(32)),
      };
      const onChain = await contract.fulfillmentDigest(value.requestId, value.promptHash, value.seed, value.imageSha256, value.manifestId, value.modelHash);
      expect(fulfillmentDigest(domain, value)).toBe(onChain);
      const signature = await signFulfillment(deployer, domain, value);
      expect(recoverFulfillmentSigner(domain, value, signature)).toBe(deployer.address);
      // The native path gives ethers' own signature (RFC 6979, low-s), in EIP-2098 compact form.
      expect(signature).toBe(Signature.from(await deployer.signTypedData(domain, FULFILLMENT_TYPES, value)).compactSerialized);
      expect(signature).toMatch(/^0x[0-9a-f]{128}$/);
    }
    // A different chain id or collection gives a different digest: signatures do not replay across them.
    const value = { requestId: 1n, promptHash: keccak256('0x01'), seed: keccak256('0x02'), imageSha256: keccak256('0x03'), manifestId: keccak256('0x04'), modelHash: keccak256('0x05') };
    const here = fulfillmentDigest(domain, value);
    expect(fulfillmentDigest(fulfillmentDomain(1, address), value)).not.toBe(here);
    expect(fulfillmentDigest(fulfillmentDomain(anvil.chainId, deployer.address), value)).not.toBe(here);
    provider.destroy();
  });
});
