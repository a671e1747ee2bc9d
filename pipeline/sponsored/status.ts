import type { Job, Queue } from 'bullmq';
import type { MintForJobData, MintForResult } from '../queue/jobs';
import { dropUndefined, firstLine, REQUEST_STATUSES, type RequestStatusReader } from '../requests/status';

/** The stages a sponsored mint goes through, in order: queued, then its request's; the last four are final. */
export const MINT_STATUSES = ['queued', ...REQUEST_STATUSES, 'failed'] as const;
export type MintStatusName = (typeof MINT_STATUSES)[number];

const FINAL: ReadonlySet<MintStatusName> = new Set(['minted', 'rejected', 'refunded', 'failed']);

/** True for a status (of a sponsored mint or of a request) that will not change any more. */
export function isFinalStatus(status: MintStatusName): boolean {
  return FINAL.has(status);
}

/** Where a sponsored mint stands (`GET /v1/mints/:id`). */
export type MintStatus = {
  id: string;
  status: MintStatusName;
  collection: string;
  to: string;
  requestId?: string;
  /** The `requestMintFor` transaction. */
  txHash?: string;
  tokenId?: string;
  tokenURI?: string;
  image?: string;
  error?: string;
};

export type MintStatusReader = {
  /** The status of sponsored mint `id`; undefined when there is none. */
  mint(id: string): Promise<MintStatus | undefined>;
};

/**
 * Reads the status of a sponsored mint: its `mint-for` job until the request is sent, then that request's status.
 *
 * @example
 * const mints = createMintStatusReader(requests, [mintForQueue]);
 * const now = await mints.mint('m-0123…'); // { id: 'm-0123…', status: 'queued', … }
 */
export function createMintStatusReader(
  requests: RequestStatusReader,
  mintForQueues: Queue<MintForJobData, MintForResult>[],
): MintStatusReader {
  return {
    async mint(id) {
      let job = await findMintJob(mintForQueues, id);
      if (!job) return undefined;
      const base = { id, collection: job.data.collection, to: job.data.to };
      const state = await job.getState();
      // The job may have ended between reading it and its state: read it again for its failure or result.
      if (state === 'failed' || state === 'completed') job = (await findMintJob(mintForQueues, id)) ?? job;
      if (state === 'failed') return { ...base, status: 'failed', error: firstLine(job.failedReason) ?? 'failed' };
      if (state !== 'completed' || !job.returnvalue) return { ...base, status: 'queued' };
      const { requestId, txHash } = job.returnvalue;
      const r = await requests.request(job.data.collection, BigInt(requestId));
      return dropUndefined<MintStatus>({
        ...base,
        status: r?.status ?? 'requested',
        requestId,
        txHash,
        tokenId: r?.tokenId,
        tokenURI: r?.tokenURI,
        image: r?.image,
        error: r?.error,
      });
    },
  };
}

/** The sponsored mint `id`, from whichever chain's `mint-for` queue holds it. */
export async function findMintJob(
  queues: Queue<MintForJobData, MintForResult>[],
  id: string,
): Promise<Job<MintForJobData, MintForResult> | undefined> {
  for (const queue of queues) {
    const job = (await queue.getJob(id)) as Job<MintForJobData, MintForResult> | undefined;
    if (job) return job;
  }
  return undefined;
}
