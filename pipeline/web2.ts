import { type Job, Queue } from 'bullmq';
import type { Contract, JsonRpcProvider } from 'ethers';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TxSender } from './chain/tx-sender';
import type { Config } from './config';
import type { MintsRouterDeps } from './http/mints';
import { type FulfillJobData, type GenerateJobData, type MintForJobData, type MintForResult, QUEUE, type RejectJobData } from './queue/jobs';
import { createMintForProcessor } from './queue/mint-for';
import { createStatusReader } from './status';

export type Web2Parameters = {
  config: Config;
  redis: Redis;
  chainId: number;
  /** The collection's address. */
  collection: string;
  /** The collection, connected to the signer wallet. */
  contract: Contract;
  provider: JsonRpcProvider;
  signerAddress: string;
  /** The leader's serial sender (the one writer for the signer key). */
  sender: TxSender;
  generateQueue: Queue<GenerateJobData>;
  fulfillQueue: Queue<FulfillJobData | RejectJobData>;
  logger: Logger;
};

export type Web2 = {
  /** Sponsored mints waiting for the leader to pay them; the job id is the mint's public id. */
  mintForQueue: Queue<MintForJobData, MintForResult>;
  /** The `mint-for` stage, for a Worker that runs on the leader only (next to the `fulfill` worker). */
  processor(job: Job<MintForJobData, MintForResult>): Promise<MintForResult>;
  /** What `startHttpServer` mounts as `/v1/mints` and `/v1/requests`. */
  api: MintsRouterDeps;
  close(): Promise<void>;
};

/**
 * The parts of the Web2 entry point for one collection: the `mint-for` queue (any node adds to it), its stage
 * (the leader runs it), the status reader and the API's dependencies.
 *
 * @example
 * const web2 = createWeb2({ config, redis, chainId, collection, contract, provider, signerAddress, sender, generateQueue, fulfillQueue, logger });
 * const worker = new Worker(QUEUE.mintFor, web2.processor, { connection: redis, prefix: config.redis.prefix });
 */
export function createWeb2(p: Web2Parameters): Web2 {
  const prefix = p.config.redis.prefix;
  // Kept 30 days: the job is the mint's record, and its id is what makes an Idempotency-Key pay once.
  const keep = { age: 30 * 24 * 3600 };
  const mintForQueue = new Queue<MintForJobData, MintForResult>(QUEUE.mintFor, {
    connection: p.redis,
    prefix,
    defaultJobOptions: {
      attempts: p.config.fulfill.attempts,
      backoff: { type: 'exponential', delay: p.config.fulfill.backoffMs },
      removeOnComplete: keep,
      removeOnFail: keep,
    },
  });
  const status = createStatusReader({
    redis: p.redis,
    prefix,
    collections: [{ chainId: p.chainId, address: p.collection, contract: p.contract, startBlock: p.config.chain.startBlock }],
    generateQueue: p.generateQueue,
    fulfillQueue: p.fulfillQueue,
    mintForQueue,
    maxBlockRange: p.config.chain.maxBlockRange,
  });
  const processor = createMintForProcessor({
    chainId: p.chainId,
    collection: p.collection,
    contract: p.contract,
    provider: p.provider,
    signerAddress: p.signerAddress,
    sender: p.sender,
    redis: p.redis,
    prefix,
    logger: p.logger,
  });
  return {
    mintForQueue,
    processor,
    api: {
      keys: p.config.api.keys,
      corsOrigins: p.config.api.corsOrigins,
      collections: [
        {
          chainId: p.chainId,
          address: p.collection,
          maxPromptBytes: async () => Number(((await p.contract.mintConfig()) as [{ maxPromptBytes: bigint }])[0].maxPromptBytes),
        },
      ],
      mintForQueue,
      status,
      logger: p.logger,
    },
    close: () => mintForQueue.close(),
  };
}
