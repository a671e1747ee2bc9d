/// <reference lib="dom" />
// The page functions below run in Chromium: DOM types.
import { type JsonRpcProvider, Wallet } from 'ethers';
import type { BrowserContext, Page } from 'playwright-core';

/** Where the tests find Chromium (Debian's package), unless AIGC_CHROMIUM names another binary. */
export const CHROMIUM = process.env.AIGC_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A test wallet in the page: what the page asked it, and switches to steer the next answers. */
export type BrowserWallet = {
  address: string;
  /** Methods the page called, in order. */
  calls: { method: string; params: unknown[] }[];
  /** The chain the wallet is on now. */
  chainId(): number;
  /** The next call of `method` is refused as a user would (EIP-1193 code 4001). */
  refuseNext(method: string): void;
};

type RpcAnswer = { result?: unknown; error?: { code: number; message: string; data?: unknown } };

/**
 * Injects an EIP-1193 wallet into every frame of `page` (before any page script runs), announced through EIP-6963 and
 * as `window.ethereum`. Its calls run in Node: `eth_sendTransaction` and signatures with `privateKey` (an anvil
 * account), chain switching between `chainId` (the anvil chain) and chains added with `wallet_addEthereumChain`,
 * everything else forwarded to anvil at `rpcUrl` as is (errors with their revert data).
 *
 * @example
 * const wallet = await injectWallet(page, { provider, rpcUrl, privateKey: keys[3], chainId: 31337, startChainId: 1 });
 */
export async function injectWallet(
  page: Page | BrowserContext,
  {
    provider,
    rpcUrl,
    privateKey,
    chainId,
    startChainId = chainId,
    knownChains = [1, chainId],
    name = 'Test Wallet',
  }: {
    provider: JsonRpcProvider;
    rpcUrl: string;
    privateKey: string;
    chainId: number;
    /** The chain the wallet is on when the page connects (another one to test "wrong network"). */
    startChainId?: number;
    /** Chains the wallet can switch to without adding them; others answer 4902 until added. */
    knownChains?: number[];
    name?: string;
  },
): Promise<BrowserWallet> {
  const signer = new Wallet(privateKey, provider);
  const known = new Set(knownChains);
  let current = startChainId;
  const refuse = new Set<string>();
  const calls: BrowserWallet['calls'] = [];
  let id = 0;

  const forward = async (method: string, params: unknown[]): Promise<RpcAnswer> => {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    const body = (await res.json()) as RpcAnswer;
    return body.error ? { error: body.error } : { result: body.result };
  };

  const answer = async (method: string, params: unknown[]): Promise<RpcAnswer> => {
    calls.push({ method, params });
    if (refuse.delete(method)) return { error: { code: 4001, message: 'User rejected the request.' } };
    const hexChain = (n: number) => `0x${n.toString(16)}`;
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return { result: [signer.address] };
      case 'eth_chainId':
        return { result: hexChain(current) };
      case 'net_version':
        return { result: String(current) };
      case 'wallet_switchEthereumChain': {
        const target = Number(BigInt((params[0] as { chainId: string }).chainId));
        if (!known.has(target)) return { error: { code: 4902, message: `Unrecognized chain ID ${hexChain(target)}` } };
        current = target;
        return { result: null };
      }
      case 'wallet_addEthereumChain': {
        const added = params[0] as { chainId: string; rpcUrls: string[] };
        known.add(Number(BigInt(added.chainId)));
        current = Number(BigInt(added.chainId));
        return { result: null };
      }
      case 'eth_sendTransaction': {
        if (current !== chainId) return { error: { code: 4100, message: `the wallet is on chain ${current}` } };
        const tx = params[0] as { to: string; data?: string; value?: string; gas?: string };
        // The gas estimate runs first: a revert comes back as the node's error, with its data, as wallets do.
        const estimate = await forward('eth_estimateGas', [{ from: signer.address, to: tx.to, data: tx.data, value: tx.value }]);
        if (estimate.error) return estimate;
        const sent = await signer.sendTransaction({ to: tx.to, data: tx.data, value: tx.value ? BigInt(tx.value) : 0n });
        return { result: sent.hash };
      }
      case 'personal_sign':
        return { result: await signer.signMessage(Buffer.from((params[0] as string).slice(2), 'hex')) };
      default:
        if (current !== chainId) return { error: { code: 4901, message: `test wallet: no RPC for chain ${current}` } };
        return forward(method, params);
    }
  };

  await page.exposeFunction('__aigcTestWallet', async (method: string, paramsJson: string) => {
    try {
      return JSON.stringify(await answer(method, JSON.parse(paramsJson) as unknown[]));
    } catch (error) {
      return JSON.stringify({ error: { code: -32603, message: (error as Error).message } });
    }
  });
  await page.addInitScript(
    ({ walletName }) => {
      type Listener = (...args: unknown[]) => void;
      const listeners: Record<string, Listener[]> = {};
      const emit = (event: string, value: unknown) => (listeners[event] ?? []).forEach((l) => l(value));
      const call = async (method: string, params: unknown[] = []) => {
        const bridge = (window as unknown as { __aigcTestWallet(m: string, p: string): Promise<string> }).__aigcTestWallet;
        const out = JSON.parse(await bridge(method, JSON.stringify(params))) as RpcAnswer;
        if (out.error) throw Object.assign(new Error(out.error.message), { code: out.error.code, data: out.error.data });
        return out.result;
      };
      const provider = {
        async request({ method, params }: { method: string; params?: unknown[] }) {
          const result = await call(method, params);
          if (method === 'wallet_switchEthereumChain' || method === 'wallet_addEthereumChain')
            emit('chainChanged', await call('eth_chainId'));
          return result;
        },
        on(event: string, listener: Listener) {
          (listeners[event] ??= []).push(listener);
        },
        removeListener(event: string, listener: Listener) {
          listeners[event] = (listeners[event] ?? []).filter((l) => l !== listener);
        },
      };
      const info = {
        uuid: '6f3c1b6e-5a53-4f4e-9d1e-aigc00000001',
        name: walletName,
        rdns: 'dev.aigc.test-wallet',
        icon: 'data:image/svg+xml,%3Csvg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"%3E%3Ccircle cx="12" cy="12" r="10" fill="%233b3bd1"/%3E%3C/svg%3E',
      };
      const announce = () =>
        window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
      window.addEventListener('eip6963:requestProvider', announce);
      announce();
      (window as unknown as { ethereum: unknown }).ethereum = provider;
    },
    { walletName: name },
  );
  return {
    address: signer.address,
    calls,
    chainId: () => current,
    refuseNext: (method) => refuse.add(method),
  };
}
