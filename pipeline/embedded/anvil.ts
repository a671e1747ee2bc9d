import fs from 'node:fs';
import path from 'node:path';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { AigcError } from '../errors';
import { spawnOwned } from './child';
import { freePort, waitFor } from './ports';

/** anvil's well-known development mnemonic; its accounts are funded with test ether on every start. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export type Anvil = {
  rpcUrl: string;
  chainId: number;
  /** Private keys of the funded development accounts, index 0 first. */
  privateKeys: string[];
  stop(): Promise<void>;
};

/** Path of the anvil binary shipped by the `@foundry-rs/anvil` npm package for this platform. */
function anvilBinary(): string {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const dir = path.dirname(require.resolve(`${pkg}/package.json`));
    const bin = path.join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
    if (fs.existsSync(bin)) return bin;
  } catch {
    // fall through to the error below
  }
  throw new AigcError('ANVIL_UNAVAILABLE', `anvil binary not found (${pkg}): run npm ci`);
}

/**
 * Starts anvil on a free loopback port with automine, and waits until it answers.
 *
 * @example
 * const anvil = await startAnvil();
 * // … use anvil.rpcUrl …
 * await anvil.stop();
 */
export async function startAnvil({
  accounts = 10,
  blockTime,
  chainId = 31337,
  hardfork,
}: {
  accounts?: number;
  blockTime?: number;
  chainId?: number;
  /** An older EVM (e.g. `shanghai`), to test what happens on chains that lack newer opcodes. @defaultValue anvil's latest */
  hardfork?: string;
} = {}): Promise<Anvil> {
  const port = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--accounts', String(accounts), '--chain-id', String(chainId), '--silent'];
  if (blockTime) args.push('--block-time', String(blockTime));
  if (hardfork) args.push('--hardfork', hardfork);
  const { child, stop } = spawnOwned(anvilBinary(), args);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const rpcUrl = `http://127.0.0.1:${port}`;
  const up = await waitFor(async () => {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    return res.ok;
  }, 15_000);
  if (!up) {
    await stop();
    throw new AigcError('ANVIL_UNAVAILABLE', `anvil did not start on port ${port}`, { details: stderr });
  }
  const mnemonic = Mnemonic.fromPhrase(ANVIL_MNEMONIC);
  const privateKeys = Array.from({ length: accounts }, (_, i) => HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).privateKey);
  return { rpcUrl, chainId, privateKeys, stop };
}
