import fs from 'node:fs';
import { Wallet } from 'ethers';
import { AigcError } from '../errors';

export type KeystorePasswordSource = {
  /** A file holding the password (one trailing newline is ignored). Setting: `signer.keystorePasswordFile`. */
  passwordFile?: string;
  /** The password itself, from `AIGC_SIGNER_KEYSTORE_PASSWORD`. */
  password?: string;
};

export type LoadKeystoreParameters = KeystorePasswordSource & {
  /** An encrypted JSON wallet (keystore v3: geth, ethers, `cast wallet new`). */
  path: string;
};

/** Reads the keystore password from exactly one source; never puts it in an error message. */
function readPassword({ passwordFile, password }: KeystorePasswordSource): string {
  if (passwordFile !== undefined && password !== undefined)
    throw new AigcError(
      'CONFIG_INVALID',
      'keystore password given twice: set AIGC_SIGNER_KEYSTORE_PASSWORD_FILE or AIGC_SIGNER_KEYSTORE_PASSWORD, not both',
    );
  if (password !== undefined) return password;
  if (passwordFile === undefined)
    throw new AigcError(
      'CONFIG_INVALID',
      'the signer keystore needs a password: set AIGC_SIGNER_KEYSTORE_PASSWORD_FILE (a file holding it) or AIGC_SIGNER_KEYSTORE_PASSWORD',
    );
  try {
    return fs.readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    const why =
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(cause as NodeJS.ErrnoException).code})`;
    throw new AigcError('CONFIG_INVALID', `keystore password file ${passwordFile} ${why}: check AIGC_SIGNER_KEYSTORE_PASSWORD_FILE`);
  }
}

/**
 * Decrypts an encrypted JSON wallet into a plain `Wallet`. Missing file, a file that is not a keystore and a wrong
 * password each give their own one-line error; the password never appears in errors or logs.
 *
 * @example
 * const wallet = await loadKeystore({ path: 'keystore.json', passwordFile: '/run/secrets/signer-password' });
 */
export async function loadKeystore({ path, ...source }: LoadKeystoreParameters): Promise<Wallet> {
  let json: string;
  try {
    json = fs.readFileSync(path, 'utf8');
  } catch (cause) {
    const why =
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(cause as NodeJS.ErrnoException).code})`;
    throw new AigcError('CONFIG_INVALID', `signer keystore ${path} ${why}: check AIGC_SIGNER_KEYSTORE`);
  }
  const password = readPassword(source);
  try {
    const wallet = await Wallet.fromEncryptedJson(json, password);
    return new Wallet(wallet.privateKey);
  } catch (error) {
    const { shortMessage, argument } = error as { shortMessage?: string; argument?: string };
    if (argument === 'password' || shortMessage === 'incorrect password')
      throw new AigcError(
        'CONFIG_INVALID',
        `wrong password for signer keystore ${path}: check AIGC_SIGNER_KEYSTORE_PASSWORD_FILE / AIGC_SIGNER_KEYSTORE_PASSWORD`,
      );
    throw new AigcError(
      'CONFIG_INVALID',
      `signer keystore ${path} is not an encrypted JSON wallet (keystore v3): ${shortMessage ?? 'unreadable'}`,
    );
  }
}
