import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closedState } from '../chain/fulfiller';
import { type MintRequest, requestToJson } from '../chain/request';
import { type GenerateJobData, requestJobId } from '../queue/jobs';
import { indexRequests } from '../requests/request-index';
import type { CollectionRuntime } from './types';

export type Intake = {
  /** Adds a `generate` job per request (job ids make a repeat a no-op) and indexes the requests for status reads. */
  enqueue(c: CollectionRuntime, requests: MintRequest[]): Promise<void>;
  /**
   * Re-enqueues open requests found on chain. New ones are added; a job that failed without ending its request
   * (e.g. it stalled in processes that were killed) is retried; a completed render whose fulfilment job is gone
   * or failed is fulfilled again from its stored outputs, if the chain still has it pending when it is looked at
   * (`requests` may be older than the fulfilments made meanwhile). Nothing already minted or rejected is touched.
   */
  requeueOpen(c: CollectionRuntime, fulfillQueue: Queue, requests: MintRequest[]): Promise<void>;
};

/**
 * Where requests enter the node's queues: from the listener (new requests) and from reconciliation (open ones).
 *
 * @example
 * const intake = createIntake({ redis, prefix, generateQueue, logger });
 * await intake.enqueue(collection, requests);
 */
export function createIntake({
  redis,
  prefix,
  generateQueue,
  logger,
}: {
  redis: Redis;
  prefix: string;
  generateQueue: Queue<GenerateJobData>;
  logger: Logger;
}): Intake {
  async function enqueue(c: CollectionRuntime, requests: MintRequest[]): Promise<void> {
    if (!requests.length) return;
    await indexRequests({ redis, prefix, chainId: c.chainId, collection: c.address }, requests); // status lookups by request id (`/v1/requests`)
    await generateQueue.addBulk(
      requests.map((r) => ({
        name: 'generate',
        data: { chainId: c.chainId, collection: c.address, request: requestToJson(r) },
        opts: { jobId: requestJobId(c.chainId, c.address, r) },
      })),
    );
    logger.info(
      { chainId: c.chainId, collection: c.address, count: requests.length, requestIds: requests.map((r) => r.requestId.toString()) },
      'requests enqueued',
    );
  }

  async function requeueOpen(c: CollectionRuntime, fulfillQueue: Queue, requests: MintRequest[]): Promise<void> {
    await enqueue(c, requests);
    for (const r of requests) {
      const id = requestJobId(c.chainId, c.address, r);
      const gen = await generateQueue.getJob(id);
      const genState = await gen?.getState();
      const ful = await fulfillQueue.getJob(id);
      const fulState = await ful?.getState();
      if (fulState === 'failed') await ful!.retry();
      else if (genState === 'failed' && !ful) await gen!.retry();
      else if (genState === 'completed' && (!ful || fulState === 'completed')) {
        // `requests` was read before this loop, and the fulfil worker may have minted some since: only the chain's
        // state now tells a reorged-out mint from one that just happened. Still pending: a reorg removed the mint.
        if (await closedState(c.contract, requestToJson(r))) continue;
        // Rendered, "minted" in a block that a reorg removed, and open again: sign and fulfil again from the stored
        // outputs; nothing is rendered or uploaded twice.
        logger.warn(
          { chainId: c.chainId, collection: c.address, requestId: r.requestId.toString() },
          'mint undone by a reorg; fulfilling again',
        );
        await ful?.remove();
        await gen!.remove();
        await enqueue(c, [r]);
      }
    }
  }

  return { enqueue, requeueOpen };
}
