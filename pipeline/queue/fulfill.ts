import type { Job, Queue } from 'bullmq';
import type { Contract } from 'ethers';
import type { Logger } from 'pino';
import { type FulfillBatcher, type FulfillOutcome, sendRefund, sendReject } from '../chain/fulfiller';
import type { TxSender } from '../chain/tx-sender';
import { toJobError } from './job-error';
import type { ChainWriteJobData, RefundJobData } from './jobs';

export type FulfillResult = { outcome: FulfillOutcome['status']; txHash?: string; gasUsed?: string; batchSize?: number };

/**
 * Queues the `refund` of a request that can no longer be minted in time, to run after `delayMs` (when the chain's
 * clock has passed its deadline; a refund sent too early is retried). Its job id derives from the request's, so it
 * is queued once.
 */
export async function enqueueRefund(
  queue: Queue<ChainWriteJobData>,
  jobId: string,
  data: Omit<RefundJobData, 'kind'>,
  delayMs = 0,
): Promise<void> {
  await queue.add('refund', { ...data, kind: 'refund' }, { jobId: `${jobId}-refund`, delay: Math.max(0, delayMs) });
}

/**
 * The `fulfill` stage: the only writer to the chain for its signer key. `fulfill` jobs go through the batcher
 * (one `fulfillBatch` per window); `reject` and `refund` jobs are sent on their own. All go through the same serial
 * sender. A fulfilment that comes too late (deadline passed) turns into a `refund` job.
 */
export function createFulfillProcessor({
  contract,
  sender,
  batcher,
  queue,
  logger,
}: {
  contract: Contract;
  sender: TxSender;
  batcher: FulfillBatcher;
  /** This stage's own queue, where a too-late fulfilment queues its refund. */
  queue: Queue<ChainWriteJobData>;
  logger: Logger;
}) {
  return async function processFulfill(job: Job<ChainWriteJobData>): Promise<FulfillResult> {
    const log = logger.child({ requestId: job.data.request.requestId, jobId: job.id });
    let outcome: FulfillOutcome;
    const data = job.data;
    try {
      if (data.kind === 'reject') outcome = await sendReject(contract, sender, data);
      else if (data.kind === 'refund') outcome = await sendRefund(contract, sender, data);
      else outcome = await batcher.add(data);
    } catch (error) {
      throw toJobError(error);
    }
    if (outcome.status === 'already-closed') {
      log.info({ minted: outcome.minted }, 'request already closed on chain');
      return { outcome: outcome.status };
    }
    if (outcome.status === 'expired') {
      const { chainId, collection, request } = data;
      log.warn({ deadline: request.deadline }, 'deadline passed before the mint; refunding the requester');
      await enqueueRefund(queue, job.id!, { chainId, collection, request });
      return { outcome: outcome.status };
    }
    const result: FulfillResult = { outcome: outcome.status, txHash: outcome.txHash, gasUsed: outcome.gasUsed.toString() };
    if (outcome.status === 'minted') result.batchSize = outcome.batchSize;
    log.info(result, outcome.status === 'minted' ? 'token minted' : `request ${outcome.status}: requester refunded`);
    return result;
  };
}
