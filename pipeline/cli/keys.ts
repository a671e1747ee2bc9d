import fs from 'node:fs';
import { Wallet } from 'ethers';
import { AigcError } from '../errors';
import type { DevAccount } from './project';

export type KeyRole = DevAccount['role'];

/**
 * The private key a command signs with. `spec` is `env:NAME` (the variable holding a 0x key) or `keystore:PATH`
 * (an encrypted JSON keystore; its password from AIGC_KEYSTORE_PASSWORD). Without `spec`: `fallbackEnv` when set,
 * else the local stack's account of `role` (`aigc dev`). Keys are never taken from the command line itself.
 */
export async function resolveKey(
  spec: string | undefined,
  { fallbackEnv, role, devAccounts }: { fallbackEnv: string; role: KeyRole; devAccounts?: DevAccount[] },
): Promise<string> {
  // Errors about a key named on the command line say so: `--key env:NAME: …`.
  const flag = spec ? `--key ${spec}: ` : '';
  if (!spec && process.env[fallbackEnv]) spec = `env:${fallbackEnv}`;
  if (!spec) {
    const account = devAccounts?.find((a) => a.role === role);
    if (account) return account.privateKey;
    throw new AigcError('INVALID_REQUEST', `no key: set ${fallbackEnv} or pass --key env:NAME or --key keystore:PATH`);
  }
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(spec);
  if (env) {
    const key = process.env[env[1]];
    if (!key) throw new AigcError('INVALID_REQUEST', `${flag}${env[1]} is not set: export it with the 0x-prefixed private key`);
    if (!/^0x[0-9a-fA-F]{64}$/.test(key))
      throw new AigcError('INVALID_REQUEST', `${flag}${env[1]} must hold a 0x-prefixed 32-byte private key`);
    return key;
  }
  const keystore = /^keystore:(.+)$/.exec(spec);
  if (keystore) {
    // The file first: a wrong path is the likelier mistake, and asking for a password to a missing file misleads.
    let json: string;
    try {
      json = fs.readFileSync(keystore[1], 'utf8');
    } catch (cause) {
      throw new AigcError('INVALID_REQUEST', `${flag}cannot read keystore ${keystore[1]}: ${(cause as Error).message}`, { cause });
    }
    const password = process.env.AIGC_KEYSTORE_PASSWORD;
    if (password === undefined) throw new AigcError('INVALID_REQUEST', `${flag}set AIGC_KEYSTORE_PASSWORD to unlock ${keystore[1]}`);
    try {
      return (await Wallet.fromEncryptedJson(json, password)).privateKey;
    } catch (cause) {
      throw new AigcError(
        'INVALID_REQUEST',
        `${flag}cannot unlock keystore ${keystore[1]}: wrong AIGC_KEYSTORE_PASSWORD or not a keystore`,
        {
          cause,
        },
      );
    }
  }
  // Never echo what looks like a key: error lines end up in logs and CI output.
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(spec))
    throw new AigcError(
      'INVALID_REQUEST',
      '--key takes env:NAME or keystore:PATH, never the key itself (it would stay in shell history and logs)',
    );
  throw new AigcError('INVALID_REQUEST', `--key must be env:NAME or keystore:PATH, got ${JSON.stringify(spec.slice(0, 80))}`);
}
