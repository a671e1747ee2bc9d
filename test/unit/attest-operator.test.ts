import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { encryptKeystoreJsonSync, Wallet, ZeroHash } from 'ethers';
import pino from 'pino';
import { createAttester } from '../../pipeline/attest/create';
import { createOperatorAttester } from '../../pipeline/attest/operator';
import { createSimulatedAttester } from '../../pipeline/attest/simulated';
import { SignerKind } from '../../pipeline/chain/collection';
import { loadConfig } from '../../pipeline/config';
import { AigcError } from '../../pipeline/errors';

const KEY = `0x${'5a'.repeat(32)}`;
const PASSWORD = 'correct horse battery staple';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-keystore-'));
const keystorePath = path.join(dir, 'signer.json');
const passwordFile = path.join(dir, 'password');
const expected = new Wallet(KEY).address;
// A light scrypt cost keeps the test fast; geth's default (N = 2^18) decrypts the same way, only slower.
fs.writeFileSync(keystorePath, encryptKeystoreJsonSync({ address: expected, privateKey: KEY }, PASSWORD, { scrypt: { N: 1 << 10 } }));
fs.writeFileSync(passwordFile, `${PASSWORD}\n`);

async function failure(promise: Promise<unknown>): Promise<AigcError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AigcError);
  return error as AigcError;
}

describe('operator attester', () => {
  it('signs with the configured key and registers as an OPERATOR signer without attestation hash', async () => {
    const attester = await createOperatorAttester({ privateKey: KEY });
    expect(attester.wallet.address).toBe(expected);
    expect(attester.attestation).toEqual({ type: 'operator' });
    expect(attester.registration).toEqual({ signer: expected, kind: SignerKind.OPERATOR, attestationHash: ZeroHash });
  });

  it('decrypts a keystore with the password from a file (trailing newline ignored) or from the environment', async () => {
    const fromFile = await createAttester(
      loadConfig({ env: { AIGC_SIGNER_KEYSTORE: keystorePath, AIGC_SIGNER_KEYSTORE_PASSWORD_FILE: passwordFile } }),
      { env: {} },
    );
    expect(fromFile.wallet.address).toBe(expected);
    expect(fromFile.wallet.privateKey).toBe(KEY);
    const fromEnv = await createAttester(loadConfig({ env: { AIGC_SIGNER_KEYSTORE: keystorePath } }), {
      env: { AIGC_SIGNER_KEYSTORE_PASSWORD: PASSWORD },
    });
    expect(fromEnv.wallet.address).toBe(expected);
  });

  it('says the password is wrong, without showing it', async () => {
    const wrongFile = path.join(dir, 'wrong');
    fs.writeFileSync(wrongFile, 'hunter2');
    const error = await failure(createOperatorAttester({ keystorePath, passwordFile: wrongFile }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.shortMessage).toBe(
      `wrong password for signer keystore ${keystorePath}: check AIGC_SIGNER_KEYSTORE_PASSWORD_FILE / AIGC_SIGNER_KEYSTORE_PASSWORD`,
    );
    expect(error.message).not.toContain('hunter2');
  });

  it('names the missing keystore, the missing password file, and a file that is not a keystore', async () => {
    expect((await failure(createOperatorAttester({ keystorePath: path.join(dir, 'nope.json'), password: PASSWORD }))).shortMessage).toBe(
      `signer keystore ${path.join(dir, 'nope.json')} does not exist: check AIGC_SIGNER_KEYSTORE`,
    );
    expect((await failure(createOperatorAttester({ keystorePath, passwordFile: path.join(dir, 'nope') }))).shortMessage).toBe(
      `keystore password file ${path.join(dir, 'nope')} does not exist: check AIGC_SIGNER_KEYSTORE_PASSWORD_FILE`,
    );
    const notKeystore = path.join(dir, 'plain.json');
    fs.writeFileSync(notKeystore, JSON.stringify({ privateKey: KEY }));
    expect((await failure(createOperatorAttester({ keystorePath: notKeystore, password: PASSWORD }))).shortMessage).toMatch(
      /^signer keystore .*plain\.json is not an encrypted JSON wallet \(keystore v3\)/,
    );
  });

  it('refuses a key given twice, a keystore without or with two passwords, and no key at all', async () => {
    expect((await failure(createOperatorAttester({ privateKey: KEY, keystorePath, password: PASSWORD }))).shortMessage).toMatch(
      /set either AIGC_SIGNER_KEY or AIGC_SIGNER_KEYSTORE, not both/,
    );
    expect((await failure(createOperatorAttester({ keystorePath }))).shortMessage).toMatch(
      /needs a password: set AIGC_SIGNER_KEYSTORE_PASSWORD_FILE .* or AIGC_SIGNER_KEYSTORE_PASSWORD/,
    );
    expect((await failure(createOperatorAttester({ keystorePath, passwordFile, password: PASSWORD }))).shortMessage).toMatch(
      /password given twice/,
    );
    expect((await failure(createAttester(loadConfig({ env: {} }), { env: {} }))).shortMessage).toMatch(
      /missing setting signer\.privateKey: set AIGC_SIGNER_KEY/,
    );
  });

  it('never logs the key or the keystore password', async () => {
    let logged = '';
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk, _enc, done) => ((logged += chunk.toString()), done()) }));
    await createAttester(loadConfig({ env: { AIGC_SIGNER_KEYSTORE: keystorePath } }), {
      env: { AIGC_SIGNER_KEYSTORE_PASSWORD: PASSWORD },
      logger,
    });
    expect(logged).toContain(expected);
    expect(logged).not.toContain(PASSWORD);
    expect(logged.toLowerCase()).not.toContain(KEY.slice(2));
  });
});

describe('simulated attester', () => {
  it('makes a fresh key per attester and labels every manifest "simulated"', () => {
    const a = createSimulatedAttester();
    const b = createSimulatedAttester();
    expect(a.wallet.address).not.toBe(b.wallet.address);
    expect(a.attestation).toEqual({ type: 'simulated' });
    expect(a.registration).toEqual({ signer: a.wallet.address, kind: SignerKind.OPERATOR, attestationHash: ZeroHash });
  });
});
