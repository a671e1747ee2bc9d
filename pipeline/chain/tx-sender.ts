import {
  hexlify,
  type JsonRpcProvider,
  keccak256,
  Signature,
  Transaction,
  type TransactionLike,
  type TransactionRequest,
  type Wallet,
} from 'ethers';
import { signDigest } from '../crypto/sign-digest';
import type { Logger } from 'pino';
import { AigcError, errorMessage } from '../errors';
import { getReceipt, type Receipt, sendRawTransaction } from './raw-rpc';

export type TxSenderOptions = {
  wallet: Wallet;
  provider: JsonRpcProvider;
  /** A transaction not mined after this long is re-sent with the same nonce and higher fees. @defaultValue 30_000 */
  stuckAfterMs?: number;
  /** Fee increase per replacement, in percent (nodes require ≥ 10). @defaultValue 15 */
  bumpPercent?: number;
  /** Replacements before giving up (the nonce is then re-read). @defaultValue 5 */
  maxBumps?: number;
  /** Receipt polling interval. @defaultValue 250 */
  pollMs?: number;
  /**
   * The lease sends run under: called when a send is queued (throwing there refuses it), and the lease it returns
   * is checked right before each transaction (and each fee replacement) is signed and broadcast. Without it, every
   * send goes out.
   */
  fence?: () => SendLease;
  logger: Logger;
};

/** What the sender needs of a lease (see `Lease` in queue/leader). Both throw when the lease no longer holds. */
export type SendLease = {
  /** Local check, no I/O. */
  assertValid(): void;
  /** Confirms with the lock's store that the lease still holds. */
  verify(): Promise<void>;
};

/** A transaction signed and about to be broadcast (each fee replacement is signed anew). */
export type SignedTx = { hash: string; nonce: number; raw: string };

export type SendOptions = {
  /**
   * Called with every signed transaction before it is broadcast; the broadcast waits for it. A caller that must
   * never pay twice records the transaction here, so a retry after a crash can find it on chain first.
   */
  onSigned?(tx: SignedTx): Promise<void>;
};

export type TxSender = {
  /** Sends `tx` with the next nonce and waits for it (or a replacement) to be mined. Calls are serialised. */
  send(tx: TransactionRequest, label: string, options?: SendOptions): Promise<Receipt>;
  /**
   * Runs `fn` between two sends, with no send in flight (e.g. to settle an earlier transaction of a crashed run);
   * with a fence, only while the lease taken when it was queued still holds.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The signed, serialised transaction; the key signs natively (libsecp256k1), with ethers' bytes. */
function signTransaction(wallet: Wallet, { from: _from, ...unsigned }: TransactionLike<string>): string {
  const tx = Transaction.from(unsigned); // an unsigned transaction may not name its sender
  tx.signature = Signature.from(hexlify(signDigest(wallet.privateKey, tx.unsignedHash)));
  return tx.serialized;
}

/**
 * The node's only way to send transactions for one signer key: one at a time (so nonces stay gap-free without a
 * local counter that a reorg could leave behind), EIP-1559 fees from the node, and fee bumping of a transaction
 * stuck past `stuckAfterMs` under the same nonce. With a `fence`, each send is bound to the lease current when it was
 * queued, and nothing is signed or broadcast once that lease has ended (the send fails with a retryable
 * `NOT_LEADER`).
 *
 * @example
 * const sender = createTxSender({ wallet, provider, logger });
 * const receipt = await sender.send(await contract.fulfillBatch.populateTransaction(items), 'fulfillBatch');
 * // Fenced by the leader lease:
 * const fenced = createTxSender({ wallet, provider, logger, fence: () => currentLease(leadership) });
 */
export function createTxSender(o: TxSenderOptions): TxSender {
  const stuckAfterMs = o.stuckAfterMs ?? 30_000;
  const bump = BigInt(100 + (o.bumpPercent ?? 15));
  const maxBumps = o.maxBumps ?? 5;
  const pollMs = o.pollMs ?? 250;
  let queue: Promise<unknown> = Promise.resolve();

  async function sendNow(tx: TransactionRequest, label: string, options: SendOptions, lease: SendLease | undefined): Promise<Receipt> {
    // Sends are serial and each waits for its receipt, so the chain's count is the next nonce; reading it each time
    // also follows a reorg that dropped our earlier transactions. Replacements keep the same nonce.
    // The three lookups are independent: asked at once, they cost one round trip instead of three.
    const [nonce, fee, gasLimit] = await Promise.all([
      o.provider.getTransactionCount(o.wallet.address, 'pending'),
      o.provider.getFeeData(),
      tx.gasLimit ?? o.provider.estimateGas({ ...tx, from: o.wallet.address }).then((gas) => (gas * 12n) / 10n),
    ]);
    let maxFeePerGas = fee.maxFeePerGas ?? fee.gasPrice ?? 1_000_000_000n;
    let maxPriorityFeePerGas = fee.maxPriorityFeePerGas ?? 1_000_000_000n;
    const hashes: string[] = [];
    for (let attempt = 0; attempt <= maxBumps; attempt++) {
      try {
        // Signed here rather than by sendTransaction, so the caller can record the hash before it can be mined.
        const populated = await o.wallet.populateTransaction({ ...tx, nonce, gasLimit, maxFeePerGas, maxPriorityFeePerGas, type: 2 });
        // A deposed writer sends nothing: not this transaction, nor a replacement of one it sent earlier.
        await lease?.verify();
        const raw = signTransaction(o.wallet, populated);
        const hash = keccak256(raw);
        await options.onSigned?.({ hash, nonce, raw });
        lease?.assertValid(); // onSigned took a round trip of its own
        await sendRawTransaction(o.provider, raw);
        hashes.push(hash);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'NONCE_EXPIRED' && hashes.length === 0) {
          // Someone else used this key meanwhile; the caller retries with a fresh nonce.
          throw new AigcError('CHAIN_FAILED', `${label}: nonce already used`, { cause: error, retryable: true });
        }
        if (code !== 'REPLACEMENT_UNDERPRICED' && code !== 'NONCE_EXPIRED') throw error;
        // NONCE_EXPIRED after a send: an earlier hash of ours was mined; the loop below finds it.
      }
      const deadline = Date.now() + stuckAfterMs;
      // First looks come quickly (fast chains and L2s mine within tens of ms), then every `pollMs`.
      for (let look = 0; Date.now() < deadline; look++) {
        for (const hash of hashes) {
          const receipt = await getReceipt(o.provider, hash);
          if (receipt) return receipt;
        }
        await sleep(Math.min(pollMs, 20 * 2 ** look));
      }
      maxFeePerGas = (maxFeePerGas * bump) / 100n;
      maxPriorityFeePerGas = (maxPriorityFeePerGas * bump) / 100n;
      o.logger.warn({ label, nonce, hashes, maxFeePerGas: maxFeePerGas.toString() }, 'transaction stuck; replacing with higher fees');
    }
    throw new AigcError('CHAIN_FAILED', `${label}: not mined after ${maxBumps} fee bumps`, { retryable: true, details: hashes.join(', ') });
  }

  return {
    send(tx, label, options = {}) {
      // The lease is taken when the send is queued: work queued under one term cannot go out under the next.
      let lease: SendLease | undefined;
      try {
        lease = o.fence?.();
      } catch (error) {
        return Promise.reject(error);
      }
      const run = queue.then(() => sendNow(tx, label, options, lease));
      queue = run.catch((error) => o.logger.debug({ label, err: errorMessage(error) }, 'send failed'));
      return run;
    },
    exclusive(fn) {
      let lease: SendLease | undefined;
      try {
        lease = o.fence?.();
      } catch (error) {
        return Promise.reject(error);
      }
      const run = queue.then(async () => {
        await lease?.verify();
        return fn();
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
