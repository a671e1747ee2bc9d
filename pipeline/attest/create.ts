import type { Logger } from 'pino';
import type { Config } from '../config';
import { AigcError } from '../errors';
import type { ArweaveStore } from '../storage/arweave';
import { createOperatorAttester } from './operator';
import { createSimulatedAttester } from './simulated';
import { createTeeAttester } from './tee';
import type { Attester } from './types';

export type CreateAttesterOptions = {
  /** Where a `tee` attester stores its attestation document. */
  store?: Pick<ArweaveStore, 'upload'>;
  /** Read for `AIGC_SIGNER_KEYSTORE_PASSWORD` (kept out of the config, so it is never in a file or a dump). @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
};

/**
 * The attester `config.signer.attester` names: `operator` (key or keystore), `tee` (key generated here, bound to a
 * configfs-tsm quote, document on Arweave) or `simulated` (throwaway key, manifests say so). Logs the signer and,
 * for `tee`, what the owner must register — never key material or passwords.
 *
 * @example
 * const attester = await createAttester(config, { store });
 * const signer = attester.wallet.connect(provider);
 */
export async function createAttester(config: Config, { store, env = process.env, logger }: CreateAttesterOptions = {}): Promise<Attester> {
  const { signer } = config;
  if (signer.attester !== 'operator' && (signer.privateKey || signer.keystorePath))
    logger?.warn(
      { attester: signer.attester },
      `signer.privateKey / keystorePath are not used by the ${signer.attester} attester: it makes its own key`,
    );
  let attester: Attester;
  if (signer.attester === 'operator') {
    attester = await createOperatorAttester({
      privateKey: signer.privateKey,
      keystorePath: signer.keystorePath,
      passwordFile: signer.keystorePasswordFile,
      password: env.AIGC_SIGNER_KEYSTORE_PASSWORD || undefined,
    });
  } else if (signer.attester === 'tee') {
    if (!store) throw new AigcError('CONFIG_INVALID', 'the tee attester needs an Arweave store for its attestation document');
    attester = await createTeeAttester({ store, tsmPath: signer.tsmPath });
  } else {
    attester = createSimulatedAttester();
  }
  if (signer.payee) attester.registration.payee = signer.payee;
  const payee = signer.payee ?? '0x0000000000000000000000000000000000000000';
  logger?.info(
    {
      attester: attester.kind,
      payee: signer.payee ?? attester.wallet.address,
      signer: attester.wallet.address,
      ...attester.attestation,
      attestationHash: attester.registration.attestationHash,
    },
    attester.kind === 'tee'
      ? `TEE signer attested: the collection owner registers it with setSigner(${attester.wallet.address}, 2, ${attester.registration.attestationHash}, ${payee}), and it needs ether for fulfil gas`
      : attester.kind === 'simulated'
        ? `SIMULATED attester: a throwaway key, manifests say "simulated" (not a real attestation); register ${attester.wallet.address} as an OPERATOR signer and fund it`
        : 'operator signer loaded',
  );
  return attester;
}
