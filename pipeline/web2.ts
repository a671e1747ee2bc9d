import { type Job, Queue, UnrecoverableError } from 'bullmq';
import type { JsonRpcProvider } from 'ethers';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TxSender } from './chain/tx-sender';
import type { Config } from './config';
import type { MintsRouterDeps } from './http/mints';
import { collectionKey, type GenerateJobData, type MintForJobData, type MintForResult, QUEUE } from './queue/jobs';
import { createMintForProcessor } from './queue/mint-for';
import { createStatusReader, type StatusCollection } from './status';

/** A collection the Web2 entry point mints on, with its chain's writer and queues. */
export type Web2Collection = StatusCollection & {
  provider: JsonRpcProvider;
  maxBlockRange: number;
  /** The chain leader's serial sender (the one writer for the signer key on that chain). */
  sender: TxSender;
};

export type Web2Parameters = {
  config: Config;
  redis: Redis;
  signerAddress: string;
  /** Every collection the node serves; the first is the API's default. */
  collections: Web2Collection[];
  generateQueue: Queue<GenerateJobData>;
  logger: Logger;
};

export type Web2 = {
  /** Sponsored mints waiting for their chain's leader to pay them, by chain id; a job id is the mint's public id. */
  mintForQueues: Map<number, Queue<MintForJobData, MintForResult>>;
  /** The `mint-for` stage of one chain, for a Worker that runs on that chain's leader only (next to `fulfill`). */
  processor(chainId: number): (job: Job<MintForJobData, MintForResult>) => Promise<MintForResult>;
  /** What `startHttpServer` mounts as `/v1/mints` and `/v1/requests`. */
  api: MintsRouterDeps;
  close(): Promise<void>;
};

/**
 * The parts of the Web2 entry point: a `mint-for-<chainId>` queue per chain (any node adds to it), its stage (that
 * chain's leader runs it), the status reader and the API's dependencies.
 *
 * @example
 * const web2 = createWeb2({ config, redis, signerAddress, collections, generateQueue, logger });
 * const worker = new Worker(web2.mintForQueues.get(chainId)!.name, web2.processor(chainId), { connection: redis, prefix });
 */
export function createWeb2(p: Web2Parameters): Web2 {
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
  }
  const status = createStatusReader({
    redis: p.redis,
    prefix,
    collections: p.collections,
    generateQueue: p.generateQueue,
    mintForQueues: [...mintForQueues.values()],
    maxBlockRange: Math.min(...p.collections.map((c) => c.maxBlockRange)),
  });
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
      if (!process) throw new UnrecoverableError(`collection ${job.data.collection} on chain ${job.data.chainId} is not served by this node`);
      return process(job);
    },
    api: {
      keys: p.config.api.keys,
      corsOrigins: p.config.api.corsOrigins,
      collections: p.collections.map((c) => ({
        chainId: c.chainId,
        address: c.address,
        maxPromptBytes: async () => Number(((await c.contract.mintConfig()) as [{ maxPromptBytes: bigint }])[0].maxPromptBytes),
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
