import { type Rpc } from './rpc';

/** An EIP-1193 provider with the events the page follows. */
export type Eip1193 = Rpc & {
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
};

/** A wallet found by EIP-6963 (or `window.ethereum`, named "Browser wallet"). */
export type WalletChoice = { name: string; icon?: string; rdns?: string; provider: Eip1193 };

type Announce = CustomEvent<{ info: { name: string; icon?: string; rdns?: string; uuid: string }; provider: Eip1193 }>;

/**
 * Wallets announced through EIP-6963, gathered from the moment this is called; the injected `window.ethereum` stands
 * in when none answers (older wallets).
 */
export function discoverWallets(): () => WalletChoice[] {
  const found = new Map<string, WalletChoice>();
  window.addEventListener('eip6963:announceProvider', (event) => {
    const { info, provider } = (event as Announce).detail;
    found.set(info.uuid, { name: info.name, icon: info.icon, rdns: info.rdns, provider });
  });
  window.dispatchEvent(new Event('eip6963:requestProvider'));
  return () => {
    if (found.size) return [...found.values()];
    const injected = (window as unknown as { ethereum?: Eip1193 }).ethereum;
    return injected ? [{ name: 'Browser wallet', provider: injected }] : [];
  };
}

/** Asks the wallet for an account; the first one. */
export async function connect(wallet: Eip1193): Promise<string> {
  const accounts = (await wallet.request({ method: 'eth_requestAccounts' })) as string[];
  if (!accounts?.length) throw new Error('the wallet gave no account');
  return accounts[0];
}

export const chainIdOf = async (wallet: Eip1193) => Number(BigInt((await wallet.request({ method: 'eth_chainId' })) as string));

/** Known chains, for the names and explorers a collector recognises. */
export const CHAINS: Record<number, { name: string; explorer?: string }> = {
  1: { name: 'Ethereum', explorer: 'https://etherscan.io' },
  10: { name: 'OP Mainnet', explorer: 'https://optimistic.etherscan.io' },
  8453: { name: 'Base', explorer: 'https://basescan.org' },
  84532: { name: 'Base Sepolia', explorer: 'https://sepolia.basescan.org' },
  11155111: { name: 'Sepolia', explorer: 'https://sepolia.etherscan.io' },
  42161: { name: 'Arbitrum One', explorer: 'https://arbiscan.io' },
  31337: { name: 'Local test chain' },
};
export const chainName = (id: number) => CHAINS[id]?.name ?? `chain ${id}`;

/** Switches the wallet to `chainId`, adding the chain first when the wallet does not know it (EIP-3085). */
export async function switchChain(wallet: Eip1193, chainId: number, rpcUrl: string | undefined): Promise<void> {
  const hex = `0x${chainId.toString(16)}`;
  try {
    await wallet.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: hex }] });
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code !== 4902 || !rpcUrl) throw error;
    await wallet.request({
      method: 'wallet_addEthereumChain',
      params: [
        {
          chainId: hex,
          chainName: chainName(chainId),
          rpcUrls: [rpcUrl],
          nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
          ...(CHAINS[chainId]?.explorer ? { blockExplorerUrls: [CHAINS[chainId].explorer] } : {}),
        },
      ],
    });
  }
}
