import { Wallet, ZeroHash } from 'ethers';
import { SignerKind } from '../chain/collection';
import { AigcError } from '../errors';
import { type KeystorePasswordSource, loadKeystore } from './keystore';
import type { Attester } from './types';

export type CreateOperatorAttesterParameters = KeystorePasswordSource & {
  /** The key (`signer.privateKey`, `AIGC_SIGNER_KEY`)… */
  privateKey?: string;
  /** …or an encrypted JSON keystore (`signer.keystorePath`, `AIGC_SIGNER_KEYSTORE`). Exactly one of the two. */
  keystorePath?: string;
};

/**
 * The `operator` attester: a key the operator holds, from the settings or from an encrypted keystore. Manifests
 * say `attestation: {type: "operator"}`; the owner authorises the key as an OPERATOR signer.
 *
 * @example
 * const attester = await createOperatorAttester({ keystorePath: 'signer.json', passwordFile: '/run/secrets/pw' });
 */
export async function createOperatorAttester({
  privateKey,
  keystorePath,
  ...password
}: CreateOperatorAttesterParameters): Promise<Attester> {
  if (privateKey && keystorePath)
    throw new AigcError('CONFIG_INVALID', 'set either AIGC_SIGNER_KEY or AIGC_SIGNER_KEYSTORE, not both: the operator signs with one key');
  if (!privateKey && !keystorePath)
    throw new AigcError(
      'CONFIG_INVALID',
      'missing setting signer.privateKey: set AIGC_SIGNER_KEY, or AIGC_SIGNER_KEYSTORE with its password',
    );
  const wallet = keystorePath ? await loadKeystore({ path: keystorePath, ...password }) : new Wallet(privateKey!);
  return {
    kind: 'operator',
    wallet,
    attestation: { type: 'operator' },
    registration: { signer: wallet.address, kind: SignerKind.OPERATOR, attestationHash: ZeroHash },
  };
}
