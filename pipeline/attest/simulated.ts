import { hexlify, randomBytes, Wallet, ZeroHash } from 'ethers';
import { SignerKind } from '../chain/collection';
import type { Attester } from './types';

/**
 * The `simulated` attester, for the embedded stack and demos without TEE hardware: a fresh random key per process,
 * and every manifest it signs says `attestation: {type: "simulated"}` — which `aigc verify` reports as not a real
 * attestation. The owner authorises it as an OPERATOR signer (it proves nothing more than an operator key).
 *
 * @example
 * const attester = createSimulatedAttester();
 * await registerSigner({ collection, owner, registration: attester.registration });
 */
export function createSimulatedAttester(): Attester {
  const wallet = new Wallet(hexlify(randomBytes(32)));
  return {
    kind: 'simulated',
    wallet,
    attestation: { type: 'simulated' },
    registration: { signer: wallet.address, kind: SignerKind.OPERATOR, attestationHash: ZeroHash },
  };
}
