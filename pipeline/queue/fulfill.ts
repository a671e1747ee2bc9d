import type { Job } from 'bullmq';
import type { Contract } from 'ethers';
import type { Logger } from 'pino';
import { sendFulfill, sendReject } from '../chain/fulfiller';
import type { FulfillJobData, RejectJobData } from './jobs';

export type FulfillResult = { outcome: 'minted' | 'rejected' | 'already-closed'; txHash?: string; gasUsed?: string };

/**
 * The `fulfill` stage: the only writer to the chain for its signer key (the worker runs with concurrency 1, so
 * nonces stay in order). Handles `fulfill` and `reject` jobs.
 */
export function createFulfillProcessor({ contract, logger }: { contract: Contract; logger: Logger }) {
  return async function processFulfill(job: Job<FulfillJobData | RejectJobData>): Promise<FulfillResult> {
    const log = logger.child({ requestId: job.data.request.requestId, jobId: job.id });
    const outcome =
      job.name === 'reject' ? await sendReject(contract, job.data as RejectJobData) : await sendFulfill(contract, job.data as FulfillJobData);
    if (outcome.status === 'already-closed') {
      log.info({ minted: outcome.minted }, 'request already closed on chain');
      return { outcome: 'already-closed' };
    }
    const result: FulfillResult = {
      outcome: job.name === 'reject' ? 'rejected' : 'minted',
      txHash: outcome.receipt.hash,
      gasUsed: outcome.receipt.gasUsed.toString(),
    };
    log.info(result, job.name === 'reject' ? 'request rejected and refunded' : 'token minted');
    return result;
  };
}
