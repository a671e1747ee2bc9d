import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anvilPrivateKeys, findLeaks, logFilesUnder, type Secret, stackSecrets } from '../helpers/secret-scan';

// The scan the demo and crash tests run over their logs: it must find a secret in each form a log could carry it,
// or those tests would pass whatever the node logged.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-secret-scan-'));
const walletPath = path.join(dir, 'wallet.json');
const keyPath = path.join(dir, 'key.pem');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
fs.writeFileSync(walletPath, JSON.stringify(rsa));
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
fs.writeFileSync(keyPath, pem);
const API_KEY = 'site-key-0123456789abcdef';
const secrets: Secret[] = stackSecrets({ arweaveWalletPath: walletPath, c2paKeyPath: keyPath, apiKeys: [API_KEY] });
const [key0] = anvilPrivateKeys(1);
const scan = (text: string) => findLeaks([{ source: 'node.log', text }], secrets).map((l) => l.secret);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('finds nothing in ordinary log lines, including public 32-byte hex (tx hashes, image hashes, addresses)', () => {
  const lines = [
    '{"level":30,"msg":"node started","signer":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}',
    `{"msg":"fulfilled","txHash":"0x${'ab'.repeat(32)}","imageSha256":"${'0f'.repeat(32)}"}`,
    '  ✓ collection deployed at 0x5FbDB2315678afecb367f032d93F642f64180aa3',
  ];
  expect(findLeaks([{ source: 'stdout', text: lines.join('\n') }], secrets)).toEqual([]);
});

it('finds an EVM private key with or without 0x, in any case, alone or inside longer hex', () => {
  expect(scan(`signer key ${key0}`)).toEqual(['EVM private key #0']);
  expect(scan(`"key":"${key0.slice(2).toUpperCase()}"`)).toEqual(['EVM private key #0']);
  expect(scan(`calldata 0xdeadbeef${key0.slice(2)}00`)).toEqual(['EVM private key #0']);
  expect(scan(`account 7: ${anvilPrivateKeys(8)[7]}`)).toEqual(['EVM private key #7']);
});

it('finds the Arweave JWK members, whole or as a truncated excerpt', () => {
  expect(scan(JSON.stringify({ jwk: rsa }))).toEqual(
    expect.arrayContaining(['Arweave wallet JWK d', 'Arweave wallet JWK p', 'Arweave wallet JWK q']),
  );
  expect(scan(`error: bad wallet ${rsa.d!.slice(100, 180)}…`)).toEqual(['Arweave wallet JWK d']);
});

it('finds the C2PA key as PEM (also JSON-escaped, or its body alone) and its private scalar', () => {
  expect(scan(JSON.stringify({ key: pem }))).toEqual(expect.arrayContaining(['C2PA key PEM body', 'a PEM private key']));
  const body = pem.split('\n').slice(1, -2).join('\\n');
  expect(scan(`{"err":"cannot parse ${body}"}`)).toEqual(['C2PA key PEM body']);
  const d = secrets.find((s) => s.name === 'C2PA private scalar')!.value;
  expect(scan(`d=${d}`)).toEqual(['C2PA private scalar']);
  expect(scan(`d=0x${Buffer.from(d, 'base64url').toString('hex')}`)).toEqual(['C2PA private scalar (hex)']);
  expect(scan('-----BEGIN RSA PRIVATE KEY----- of someone else')).toEqual(['a PEM private key']);
});

it('finds the API keys and the mnemonic, and names the line without repeating the secret', () => {
  const leaks = findLeaks(
    [
      {
        source: 'stderr',
        text: `ok\nauthorization: Bearer ${API_KEY}\nphrase test test test test test test test test test test test junk`,
      },
    ],
    secrets,
  );
  expect(leaks.map(({ source, line, secret }) => ({ source, line, secret }))).toEqual([
    { source: 'stderr', line: 2, secret: 'API key #0' },
    { source: 'stderr', line: 3, secret: 'anvil mnemonic' },
  ]);
  expect(leaks[0].excerpt).not.toContain(API_KEY);
});

it('reads every *.log under a folder', () => {
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'logs', 'node.log'), `${key0}\n`);
  fs.writeFileSync(path.join(dir, 'notes.txt'), `${key0}\n`);
  expect(findLeaks(logFilesUnder(dir), secrets)).toEqual([expect.objectContaining({ source: path.join('logs', 'node.log'), line: 1 })]);
});
