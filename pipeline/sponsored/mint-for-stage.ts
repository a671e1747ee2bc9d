import type { Job } from 'bullmq';
import { toJobError } from '../queue/job-error';
import { type Contract, formatEther, type JsonRpcProvider, toUtf8Bytes } from 'ethers';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { collectionInterface } from '../chain/collection';
import { getReceipt, type Receipt, sendRawTransaction } from '../chain/raw-rpc';
import { MINT_REQUESTED_TOPIC, parseMintRequested } from '../chain/request';
import type { SignedTx, TxSender } from '../chain/tx-sender';
import { AigcError } from '../errors';
import type { MintForJobData, MintForResult } from '../queue/jobs';
import { indexRequests, REQUEST_INDEX_TTL_S } from '../requests/request-index';
import { collectionReads } from '../chain/typed-reads';

export type MintForStageDeps = {
  chainId: number;
  /** Address of the collection this worker pays mints on. */
  collection: string;
  /** The collection, connected to the signer wallet (simulations run from the signer's address). */
  contract: Contract;
  provider: JsonRpcProvider;
  signerAddress: string;
  /** The leader's serial sender: the one writer for the signer key. */
  sender: TxSender;
  redis: Redis;
  /** Redis key prefix (the node's `redis.prefix`). */
  prefix: string;
  /** How long a retry waits for a transaction of an earlier run to be mined or replaced. @defaultValue 60_000 */
  settleTimeoutMs?: number;
  logger: Logger;
};

/** Redis hash of the transactions signed for mint `jobId` (hash → `SignedTx` JSON), recorded before broadcast. */
export const mintForTxKey = (prefix: string, jobId: string) => `${prefix}:mint-for:txs:${jobId}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Readable reasons for the collection's refusals of `requestMintFor`. */
const REFUSALS: Record<string, string> = {
  AIGCSoldOut: 'the collection is sold out',
  AIGCMintNotOpen: 'the mint has not opened yet',
  AIGCMintClosed: 'the mint has closed',
  AIGCWalletLimit: 'the recipient has reached the per-wallet limit',
  AIGCPromptLength: 'the prompt is empty or longer than the collection allows',
  AIGCInvalidRecipient: 'the recipient is the zero address',
  AIGCPaused: 'the collection is paused',
};

/** The collection's custom error in a failed call, if its revert data holds one. */
function decodeRevert(error: unknown): { name: string; args: unknown[] } | undefined {
  const data = (error as { data?: unknown }).data;
  if (typeof data !== 'string' || data.length < 10) return undefined;
  try {
    const parsed = collectionInterface.parseError(data);
    return parsed ? { name: parsed.name, args: [...parsed.args] } : undefined;
  } catch {
    return undefined;
  }
}

/** A revert of the simulated call, as a clear error; only a price that changed meanwhile is worth retrying. */
function refusal(error: unknown): AigcError {
  const revert = decodeRevert(error);
  if (!revert)
    return new AigcError('CHAIN_FAILED', 'could not simulate requestMintFor', { cause: error, retryable: true, details: String(error) });
  const call = `${revert.name}(${revert.args.map(String).join(', ')})`;
  const why = REFUSALS[revert.name];
  return new AigcError('CHAIN_FAILED', `the collection refused requestMintFor: ${why ? `${why} (${call})` : call}`, {
    retryable: revert.name === 'AIGCWrongPayment',
  });
}

/**
 * The `mint-for` stage (leader only): pays a sponsored mint with `requestMintFor(to, prompt)` from the signer key,
 * through the same serial sender as fulfilment, and returns the on-chain request id. From there the request flows
 * through listener → generate → fulfill like any other.
 *
 * Never pays twice: every signed transaction is recorded in Redis before it is broadcast, and a retry first
 * settles what an earlier run recorded (mined → its request is the answer; nonce taken by another transaction →
 * it can no longer be mined; otherwise it is broadcast again and awaited).
 *
 * @example
 * const worker = new Worker(`${QUEUE.mintFor}-${chainId}`, createMintForProcessor({ chainId, collection, contract, provider, signerAddress, sender, redis, prefix, logger }), { connection });
 */
export function createMintForProcessor(deps: MintForStageDeps) {
  const { chainId, collection, contract, provider, signerAddress, sender, redis, prefix, logger } = deps;
  const settleTimeoutMs = deps.settleTimeoutMs ?? 60_000;

  /** The receipt of a transaction an earlier run of this job sent, if one was (or now gets) mined. */
  const settleEarlier = async (txKey: string): Promise<Receipt | undefined> => {
    const recorded = Object.values(await redis.hgetall(txKey)).map((v) => JSON.parse(v) as SignedTx);
    if (!recorded.length) return undefined;
    const deadline = Date.now() + settleTimeoutMs;
    for (;;) {
      // The nonce first, then the receipts: a transaction mined in between is then seen as mined, never as dropped.
      const next = await provider.getTransactionCount(signerAddress, 'latest');
      for (const t of recorded) {
        const receipt = await getReceipt(provider, t.hash);
        if (receipt) return receipt;
      }
      if (recorded.every((t) => t.nonce < next)) return undefined; // each nonce went to another transaction
      // Maybe never broadcast (a crash right after recording) or dropped: it is signed, so it can only land once.
      for (const t of recorded) await sendRawTransaction(provider, t.raw).catch(() => undefined);
      if (Date.now() > deadline) {
        throw new AigcError('CHAIN_FAILED', 'an earlier requestMintFor of this mint is still pending; will check again', {
          retryable: true,
          details: recorded.map((t) => t.hash).join(', '),
        });
      }
      await sleep(250);
    }
  };

  const resultOf = async (receipt: Receipt): Promise<MintForResult> => {
    if (receipt.status !== 1) throw new AigcError('CHAIN_FAILED', `requestMintFor transaction ${receipt.hash} reverted`);
    const log = receipt.logs.find((l) => l.address.toLowerCase() === collection.toLowerCase() && l.topics[0] === MINT_REQUESTED_TOPIC);
    if (!log) throw new AigcError('CHAIN_FAILED', `requestMintFor transaction ${receipt.hash} emitted no MintRequested`);
    const request = parseMintRequested(log);
    // Findable by id at once, before the listener reaches its block.
    await indexRequests({ redis, prefix, chainId, collection }, [request]);
    return { requestId: request.requestId.toString(), txHash: receipt.hash, blockNumber: receipt.blockNumber };
  };

  const insufficient = (balance: bigint, price: bigint, gas?: bigint) =>
    new AigcError(
      'INSUFFICIENT_FUNDS',
      `the operator cannot pay this mint: signer ${signerAddress} has ${formatEther(balance)} ETH and a sponsored mint needs ` +
        `${formatEther(price)} ETH (price)${gas === undefined ? ' plus gas' : ` + about ${formatEther(gas)} ETH (gas)`}; send ETH to the signer`,
    );

  const pay = async (job: Job<MintForJobData, MintForResult>): Promise<MintForResult> => {
    const { to, prompt } = job.data;
    if (job.data.chainId !== chainId || job.data.collection.toLowerCase() !== collection.toLowerCase()) {
      throw new AigcError(
        'INVALID_REQUEST',
        `mint for collection ${job.data.collection} on chain ${job.data.chainId} reached the worker of ${collection}`,
      );
    }
    const txKey = mintForTxKey(prefix, job.id!);
    // Settled with no send in flight, so a re-broadcast cannot race the sender for a nonce.
    const earlier = await sender.exclusive(() => settleEarlier(txKey));
    if (earlier) return resultOf(earlier);

    const bytes = toUtf8Bytes(prompt);
    const [config] = await collectionReads(contract).mintConfig();
    const price = BigInt(config.price);
    const balance = await provider.getBalance(signerAddress);
    if (balance < price) throw insufficient(balance, price);
    let gas: bigint;
    try {
      gas = await contract.requestMintFor.estimateGas(to, bytes, { value: price });
    } catch (error) {
      if ((error as { code?: string }).code === 'INSUFFICIENT_FUNDS') throw insufficient(balance, price);
      throw refusal(error);
    }
    const fee = await provider.getFeeData();
    const gasLimit = (gas * 12n) / 10n;
    const gasCost = gasLimit * (fee.maxFeePerGas ?? fee.gasPrice ?? 0n);
    if (balance < price + gasCost) throw insufficient(balance, price, gasCost);

    const tx = await contract.requestMintFor.populateTransaction(to, bytes, { value: price, gasLimit });
    const record = async (signed: SignedTx) => {
      await redis.multi().hset(txKey, signed.hash, JSON.stringify(signed)).expire(txKey, REQUEST_INDEX_TTL_S).exec();
    };
    let receipt: Receipt;
    try {
      receipt = await sender.send(tx, 'requestMintFor', { onSigned: record });
    } catch (error) {
      if ((error as { code?: string }).code === 'INSUFFICIENT_FUNDS')
        throw insufficient(await provider.getBalance(signerAddress), price, gasCost);
      throw error;
    }
    return resultOf(receipt);
  };

  return async function processMintFor(job: Job<MintForJobData, MintForResult>): Promise<MintForResult> {
    const log = logger.child({ mintId: job.id, keyId: job.data.keyId });
    try {
      const result = await pay(job);
      log.info({ requestId: result.requestId, txHash: result.txHash, to: job.data.to }, 'sponsored mint requested on chain');
      return result;
    } catch (error) {
      // A refusal that will not change on retry ends the mint now, with the reason as its error.
      throw toJobError(error);
    }
  };
}
