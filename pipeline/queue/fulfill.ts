import { type Job, UnrecoverableError } from 'bullmq';
import type { Contract } from 'ethers';
import type { Logger } from 'pino';
import { type FulfillBatcher, type FulfillOutcome, sendReject } from '../chain/fulfiller';
import type { TxSender } from '../chain/tx-sender';
import { AigcError } from '../errors';
import type { FulfillJobData, RejectJobData } from './jobs';

export type FulfillResult = { outcome: FulfillOutcome['status']; txHash?: string; gasUsed?: string; batchSize?: number };

/**
 * The `fulfill` stage: the only writer to the chain for its signer key. `fulfill` jobs go through the batcher
 * (one `fulfillBatch` per window); `reject` jobs are sent on their own. Both go through the same serial sender.
 */
export function createFulfillProcessor({ contract, sender, batcher, logger }: { contract: Contract; sender: TxSender; batcher: FulfillBatcher; logger: Logger }) {
  return async function processFulfill(job: Job<FulfillJobData | RejectJobData>): Promise<FulfillResult> {
    const log = logger.child({ requestId: job.data.request.requestId, jobId: job.id });
    let outcome: FulfillOutcome;
    try {
      outcome = job.name === 'reject' ? await sendReject(contract, sender, job.data as RejectJobData) : await batcher.add(job.data as FulfillJobData);
    } catch (error) {
      if (error instanceof AigcError && !error.retryable) throw new UnrecoverableError(error.shortMessage);
      throw error;
    }
    if (outcome.status === 'already-closed') {
      log.info({ minted: outcome.minted }, 'request already closed on chain');
      return { outcome: outcome.status };
    }
    const result: FulfillResult = { outcome: outcome.status, txHash: outcome.txHash, gasUsed: outcome.gasUsed.toString() };
    if (outcome.status === 'minted') result.batchSize = outcome.batchSize;
    log.info(result, outcome.status === 'rejected' ? 'request rejected and refunded' : 'token minted');
    return result;
  };
}
