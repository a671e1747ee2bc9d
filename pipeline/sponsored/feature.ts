import { type Job, Queue, UnrecoverableError } from 'bullmq';
import type { JsonRpcProvider } from 'ethers';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TxSender } from '../chain/tx-sender';
import type { Config } from '../config';
import { collectionKey, type GenerateJobData, type MintForJobData, type MintForResult, QUEUE } from '../queue/jobs';
import { createRequestStatusReader, type StatusCollection } from '../requests/status';
import { createMintForProcessor } from './mint-for-stage';
import type { SponsoredRoutesDeps } from './routes';
import { createMintStatusReader } from './status';
import { type SubmittedMint, submitMint } from './submit';
import { collectionReads } from '../chain/typed-reads';
import { errorMessage } from '../errors';

/** A collection sponsored mints are made on, with its chain's writer and queues. */
export type SponsoredCollection = StatusCollection & {
  provider: JsonRpcProvider;
  maxBlockRange: number;
  /** The chain leader's serial sender (the one writer for the signer key on that chain). */
  sender: TxSender;
};

export type SponsoredParameters = {
  config: Config;
  redis: Redis;
  signerAddress: string;
  /** Every collection the node serves; the first is the API's default. */
  collections: SponsoredCollection[];
  generateQueue: Queue<GenerateJobData>;
  logger: Logger;
};

export type SponsoredMints = {
  /** Sponsored mints waiting for their chain's leader to pay them, by chain id; a job id is the mint's public id. */
  mintForQueues: Map<number, Queue<MintForJobData, MintForResult>>;
  /** The `mint-for` stage of one chain, for a Worker that runs on that chain's leader only (next to `fulfill`). */
  processor(chainId: number): (job: Job<MintForJobData, MintForResult>) => Promise<MintForResult>;
  /**
   * Queues a sponsored mint unless one with its id exists (the path `POST /v1/mints` takes): how the node's drops
   * submit theirs, with an id derived from the period.
   */
  submit(data: MintForJobData, options: Parameters<typeof submitMint>[2]): Promise<SubmittedMint>;
  /** What `startHttpServer` mounts as `/v1/mints` and `/v1/requests`. */
  api: SponsoredRoutesDeps;
  close(): Promise<void>;
};

/**
 * The sponsored (Web2) mint feature, composed: a `mint-for-<chainId>` queue per chain (any node adds to it), its stage (that
 * chain's leader runs it), the status reader and the API's dependencies.
 *
 * @example
 * const sponsored = createSponsoredMints({ config, redis, signerAddress, collections, generateQueue, logger });
 * const worker = new Worker(sponsored.mintForQueues.get(chainId)!.name, sponsored.processor(chainId), { connection: redis, prefix });
 */
export function createSponsoredMints(p: SponsoredParameters): SponsoredMints {
  const prefix = p.config.redis.prefix;
  // Kept 30 days: the job is the mint's record, and its id is what makes an Idempotency-Key pay once.
  const keep = { age: 30 * 24 * 3600 };
  const mintForQueues = new Map<number, Queue<MintForJobData, MintForResult>>();
  for (const { chainId } of p.collections) {
    if (mintForQueues.has(chainId)) continue;
    mintForQueues.set(
      chainId,
      new Queue<MintForJobData, MintForResult>(`${QUEUE.mintFor}-${chainId}`, {
        connection: p.redis,
        prefix,
        defaultJobOptions: {
          attempts: p.config.fulfill.attempts,
          backoff: { type: 'exponential', delay: p.config.fulfill.backoffMs },
          removeOnComplete: keep,
          removeOnFail: keep,
        },
      }),
    );
    mintForQueues
      .get(chainId)!
      .on('error', (error) => p.logger.warn({ queue: `${QUEUE.mintFor}-${chainId}`, err: errorMessage(error) }, 'queue error'));
  }
  const requests = createRequestStatusReader({
    redis: p.redis,
    prefix,
    collections: p.collections,
    generateQueue: p.generateQueue,
    maxBlockRange: Math.min(...p.collections.map((c) => c.maxBlockRange)),
  });
  const status = { ...requests, ...createMintStatusReader(requests, [...mintForQueues.values()]) };
  const processors = new Map(
    p.collections.map((c) => [
      collectionKey(c.chainId, c.address),
      createMintForProcessor({
        chainId: c.chainId,
        collection: c.address,
        contract: c.contract,
        provider: c.provider,
        signerAddress: p.signerAddress,
        sender: c.sender,
        redis: p.redis,
        prefix,
        logger: p.logger.child({ chainId: c.chainId, collection: c.address }),
      }),
    ]),
  );
  return {
    mintForQueues,
    processor: (chainId) => (job) => {
      const process = job.data.chainId === chainId ? processors.get(collectionKey(chainId, job.data.collection)) : undefined;
      if (!process)
        throw new UnrecoverableError(`collection ${job.data.collection} on chain ${job.data.chainId} is not served by this node`);
      return process(job);
    },
    submit: (data, options) => submitMint(mintForQueues, data, options),
    api: {
      keys: p.config.api.keys,
      corsOrigins: p.config.api.corsOrigins,
      rate: { perMinute: p.config.api.ratePerMinute, burst: p.config.api.burst },
      collections: p.collections.map((c) => ({
        chainId: c.chainId,
        address: c.address,
        maxPromptBytes: async () => Number((await collectionReads(c.contract).mintConfig())[0].maxPromptBytes),
      })),
      mintForQueues,
      status,
      logger: p.logger,
    },
    close: async () => {
      for (const queue of mintForQueues.values()) await queue.close();
    },
  };
}
