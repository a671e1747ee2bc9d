import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { ANVIL_MNEMONIC } from '../../pipeline/embedded/anvil';

/** A value that must never reach a log. `hex` values are matched without 0x and case-insensitively. */
export type Secret = { name: string; value: string; hex?: boolean };
/** Where a secret showed up: the log, the line (1-based) and which secret (never its value). */
export type Leak = { source: string; line: number; secret: string; excerpt: string };
/** One log to scan: stdout or stderr of a process, or a log file. */
export type LogText = { source: string; text: string };

const hexOf = (key: string) => key.replace(/^0x/i, '').toLowerCase();

/** The anvil development accounts' private keys (the demo and the fixtures fund up to 20 of them). */
export function anvilPrivateKeys(count = 20): string[] {
  const mnemonic = Mnemonic.fromPhrase(ANVIL_MNEMONIC);
  return Array.from({ length: count }, (_, i) => HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).privateKey);
}

/**
 * The secrets a run of the local stack holds: the EVM private keys (and the mnemonic they come from), the Arweave
 * wallet's private JWK members, the C2PA signing key (its PEM body and its private scalar), and API keys.
 */
export function stackSecrets({
  privateKeys = anvilPrivateKeys(),
  arweaveWalletPath,
  c2paKeyPath,
  apiKeys = [],
}: {
  privateKeys?: string[];
  arweaveWalletPath: string;
  c2paKeyPath: string;
  apiKeys?: string[];
}): Secret[] {
  const secrets: Secret[] = privateKeys.map((k, i) => ({ name: `EVM private key #${i}`, value: hexOf(k), hex: true }));
  secrets.push({ name: 'anvil mnemonic', value: ANVIL_MNEMONIC });
  const jwk = JSON.parse(fs.readFileSync(arweaveWalletPath, 'utf8')) as Record<string, string>;
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) secrets.push({ name: `Arweave wallet JWK ${member}`, value: jwk[member] });
  const pem = fs.readFileSync(c2paKeyPath, 'utf8');
  secrets.push({ name: 'C2PA key PEM body', value: pem.replace(/-----[A-Z ]+-----|\s/g, '') });
  const d = createPrivateKey(pem).export({ format: 'jwk' }).d!;
  secrets.push({ name: 'C2PA private scalar', value: d });
  secrets.push({ name: 'C2PA private scalar (hex)', value: Buffer.from(d, 'base64url').toString('hex'), hex: true });
  apiKeys.forEach((k, i) => secrets.push({ name: `API key #${i}`, value: k }));
  for (const s of secrets) if (!s.value || s.value.length < 16) throw new Error(`secret ${s.name} is empty or too short to scan for`);
  return secrets;
}

/**
 * Pieces of a secret to look for: the whole value when short, else every 32 characters of it, so a truncated
 * excerpt (an error message cut at some length) is caught too.
 */
function piecesOf(secret: Secret): string[] {
  const value = secret.value.replace(/\s+/g, ''); // lines are searched without whitespace
  if (secret.hex || value.length <= 48) return [value];
  const pieces = [];
  for (let i = 0; i + 32 <= value.length; i += 32) pieces.push(value.slice(i, i + 32));
  return pieces;
}

/**
 * Every line of `logs` that holds one of `secrets` (or any PEM private key). Lines are searched with whitespace and
 * JSON-escaped line breaks removed, so a PEM logged inside a JSON string is found across its line breaks.
 */
export function findLeaks(logs: LogText[], secrets: Secret[]): Leak[] {
  const searched = secrets.map((s) => ({ name: s.name, hex: s.hex, pieces: piecesOf(s) }));
  const leaks: Leak[] = [];
  for (const { source, text } of logs) {
    text.split('\n').forEach((line, i) => {
      const flat = line.replace(/\\[nr]|\s+/g, '');
      const lower = flat.toLowerCase();
      const found = searched.filter((s) => s.pieces.some((p) => (s.hex ? lower : flat).includes(p)));
      // The excerpt locates the line without repeating what leaked.
      let excerpt = line;
      for (const s of found) for (const p of s.pieces) excerpt = excerpt.replace(new RegExp(p.replace(/[^\w]/g, '\\$&'), 'gi'), '[…]');
      const names = found.map((s) => s.name);
      if (/PRIVATE KEY-----/.test(line)) names.push('a PEM private key');
      for (const secret of names) leaks.push({ source, line: i + 1, secret, excerpt: excerpt.slice(0, 160) });
    });
  }
  return leaks;
}

/** The text of every `*.log` file under `dir`, each named by its path relative to `dir`. */
export function logFilesUnder(dir: string): LogText[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile() && e.name.endsWith('.log'))
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return { source: path.relative(dir, file), text: fs.readFileSync(file, 'utf8') };
    });
}
