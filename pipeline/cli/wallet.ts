import fs from 'node:fs';
import path from 'node:path';
import { formatEther, getAddress, isAddress, Wallet } from 'ethers';
import { connectProvider } from '../chain/provider';
import { AigcError } from '../errors';
import { createHttpClient } from '../net/http-client';
import { winstonToAr } from '../startup/checks';
import { arweaveClient, loadWallet } from '../storage/arweave';
import { jsonLine } from './output';

export type WalletOptions = { json?: boolean; out?: string; arweave?: string; rpc?: string; force?: boolean };

/** Prints `value` as one JSON line with --json, else `text`. */
const print = (opts: WalletOptions, value: object, text: string) => console.log(opts.json ? jsonLine(value) : text);

/** Writes a secret file readable by its owner only; never overwrites one without --force. */
function writeSecret(file: string, text: string, force = false): string {
  const out = path.resolve(file);
  if (fs.existsSync(out) && !force)
    throw new AigcError('INVALID_REQUEST', `${file} exists: choose another --out (or --force to replace it)`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text, { mode: 0o600 });
  fs.chmodSync(out, 0o600); // an existing file keeps its mode through writeFileSync
  return out;
}

const arweaveUrlOf = (opts: WalletOptions) => opts.arweave ?? process.env.AIGC_ARWEAVE_URL ?? 'https://arweave.net';

/** `aigc wallet arweave create`: a new JWK (RSA 4096) for the node's uploads. */
export async function arweaveCreate(opts: WalletOptions & { out: string }): Promise<void> {
  const arweave = arweaveClient('https://arweave.net');
  const jwk = await arweave.wallets.generate();
  const address = await arweave.wallets.jwkToAddress(jwk);
  const file = writeSecret(opts.out, JSON.stringify(jwk), opts.force);
  print(opts, { address, file }, `Arweave wallet ${address} written to ${file} (mode 0600); fund it before the node uploads`);
}

/** The address of a JWK file, or the argument itself when it is already an address. */
async function arweaveAddressOf(fileOrAddress: string): Promise<string> {
  if (/^[A-Za-z0-9_-]{43}$/.test(fileOrAddress) && !fs.existsSync(fileOrAddress)) return fileOrAddress;
  return arweaveClient('https://arweave.net').wallets.jwkToAddress(await loadWallet(fileOrAddress));
}

export async function arweaveAddress(file: string, opts: WalletOptions): Promise<void> {
  const address = await arweaveAddressOf(file);
  print(opts, { address }, address);
}

/** `aigc wallet arweave balance`: the gateway's `GET /wallet/<address>/balance`, in AR. */
export async function arweaveBalance(fileOrAddress: string, opts: WalletOptions): Promise<void> {
  const address = await arweaveAddressOf(fileOrAddress);
  const url = arweaveUrlOf(opts);
  const http = createHttpClient({ baseUrl: url, name: 'Arweave gateway', errorCode: 'ARWEAVE_FAILED', timeoutMs: 15_000 });
  const res = await http.get(`wallet/${address}/balance`);
  if (!res.ok) throw new AigcError('ARWEAVE_FAILED', `the Arweave gateway at ${url} answered HTTP ${res.status} for ${address}'s balance`);
  const winston = BigInt(res.text().trim() || '0');
  print(
    opts,
    { address, winston: winston.toString(), ar: winstonToAr(winston), gateway: url },
    `${winstonToAr(winston)} AR (${address} on ${url})`,
  );
}

/** The keystore password: AIGC_KEYSTORE_PASSWORD, else asked on the terminal (twice when creating). */
async function keystorePassword(confirm: boolean): Promise<string> {
  const fromEnv = process.env.AIGC_KEYSTORE_PASSWORD;
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY) throw new AigcError('INVALID_REQUEST', 'set AIGC_KEYSTORE_PASSWORD (no terminal to ask for the password)');
  const clack = await import('@clack/prompts');
  const ask = async (message: string) => {
    const value = await clack.password({ message });
    if (clack.isCancel(value)) throw new AigcError('INVALID_REQUEST', 'cancelled; nothing written');
    return value;
  };
  const password = await ask('Keystore password');
  if (confirm && (await ask('Same password again')) !== password)
    throw new AigcError('INVALID_REQUEST', 'the passwords differ; nothing written');
  return password;
}

/** `aigc wallet signer create`: a new signer key in an encrypted JSON keystore (scrypt), for `signer.keystorePath`. */
export async function signerCreate(opts: WalletOptions & { out: string }): Promise<void> {
  const password = await keystorePassword(true);
  if (password.length < 8) throw new AigcError('INVALID_REQUEST', 'the keystore password needs at least 8 characters');
  const wallet = Wallet.createRandom();
  const file = writeSecret(opts.out, await wallet.encrypt(password), opts.force);
  print(
    opts,
    { address: wallet.address, file },
    `signer ${wallet.address} written to ${file} (encrypted, mode 0600); fund it, then the collection owner runs \`aigc admin set-signer ${wallet.address}\``,
  );
}

/** The address of a keystore (read from its JSON, no password needed), or the argument when it is an address. */
function signerAddressOf(fileOrAddress: string): string {
  if (isAddress(fileOrAddress)) return getAddress(fileOrAddress);
  let json: { address?: string };
  try {
    json = JSON.parse(fs.readFileSync(fileOrAddress, 'utf8')) as { address?: string };
  } catch (cause) {
    throw new AigcError('INVALID_REQUEST', `${fileOrAddress} is neither an address nor a readable keystore file`, { cause });
  }
  if (!json.address) throw new AigcError('INVALID_REQUEST', `${fileOrAddress} is not a JSON keystore (no address field)`);
  return getAddress(json.address.startsWith('0x') ? json.address : `0x${json.address}`);
}

export async function signerAddress(file: string, opts: WalletOptions): Promise<void> {
  const address = signerAddressOf(file);
  print(opts, { address }, address);
}

/** `aigc wallet signer balance`: the key's balance on the chain at --rpc (or AIGC_RPC_URL). */
export async function signerBalance(fileOrAddress: string, opts: WalletOptions): Promise<void> {
  const address = signerAddressOf(fileOrAddress);
  const rpc = opts.rpc ?? process.env.AIGC_RPC_URL;
  if (!rpc) throw new AigcError('INVALID_REQUEST', 'no chain: pass --rpc <url> or set AIGC_RPC_URL');
  const provider = await connectProvider(rpc);
  try {
    const [wei, network] = await Promise.all([provider.getBalance(address), provider.getNetwork()]);
    const chainId = Number(network.chainId);
    print(
      opts,
      { address, wei: wei.toString(), eth: formatEther(wei), chainId },
      `${formatEther(wei)} ETH (${address} on chain ${chainId})`,
    );
  } finally {
    provider.destroy();
  }
}
