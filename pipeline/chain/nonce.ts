import { BaseWallet, isError, type Provider, type Signer, type TransactionReceipt } from 'ethers';
import { AigcError } from '../errors';

/** Highest nonce mined per account, per provider: the scope of the provider's read cache. */
const mined = new WeakMap<Provider, Map<string, number>>();

/**
 * Wallets holding their key sign with the nonce they read from their provider. A plain `JsonRpcProvider` caches
 * identical reads for 250 ms, so the nonce read just before the previous transaction was mined comes back again
 * ("nonce too low"). Browser wallets and `NonceManager` choose their own nonces and are left alone.
 */
function isLocalKey(signer: Signer): boolean {
  return signer instanceof BaseWallet || (typeof signer === 'object' && signer !== null && 'signingKey' in signer);
}

/**
 * Sends one transaction through `signer` and waits for it to be mined. For a key-holding wallet the nonce is set
 * explicitly: the pending count, but never one this process has already seen mined from that account on that
 * provider. `send` gets the overrides to pass; its transaction's receipt is returned (a revert throws as usual).
 *
 * @example
 * const receipt = await sendInOrder(wallet, (o) => contract.connect(wallet).requestMint(prompt, { ...o, value }));
 */
export async function sendInOrder(
  signer: Signer,
  send: (overrides: { nonce?: number }) => Promise<{ nonce: number; hash: string; wait(): Promise<TransactionReceipt | null> }>,
): Promise<TransactionReceipt> {
  const provider = signer.provider;
  const managed = provider && isLocalKey(signer);
  const account = managed ? (await signer.getAddress()).toLowerCase() : '';
  let overrides = {};
  if (managed) {
    const pending = await signer.getNonce('pending');
    const last = mined.get(provider)?.get(account);
    overrides = { nonce: last === undefined ? pending : Math.max(pending, last + 1) };
  }
  const tx = await send(overrides);
  const note = () => {
    if (!managed) return;
    const seen = mined.get(provider) ?? new Map<string, number>();
    mined.set(provider, seen.set(account, Math.max(seen.get(account) ?? -1, tx.nonce)));
  };
  try {
    const receipt = await tx.wait();
    if (!receipt) throw new AigcError('CHAIN_FAILED', `transaction ${tx.hash} was dropped`);
    note();
    return receipt;
  } catch (error) {
    if (isError(error, 'CALL_EXCEPTION') && error.receipt) note(); // reverted, but its nonce is used
    throw error;
  }
}
