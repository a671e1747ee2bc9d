import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Wallet } from 'ethers';
import IORedis from 'ioredis';
import type { Logger } from 'pino';
import { connectCollection } from './chain/collection';
import { type Listener, startListener } from './chain/listener';
import { createProvider } from './chain/provider';
import { requestToJson } from './chain/request';
import { type Config, requireSetting } from './config';
import { errorMessage } from './errors';
import { createGatewayClient } from './gateway-client';
import { createLogger } from './logger';
import { createFulfillProcessor } from './queue/fulfill';
import { createGenerateProcessor } from './queue/generate';
import { type FulfillJobData, type GenerateJobData, QUEUE, REJECT_REASON, type RejectJobData, requestJobId } from './queue/jobs';
import { createArweaveStore, loadWallet } from './storage/arweave';
import type { CollectionTemplate } from './template';

export type StartNodeParameters = {
  config: Config;
  /** The collection's template (render settings, name, description). */
  template: CollectionTemplate;
  logger?: Logger;
  /** Run the chain listener here. Nodes that only add worker capacity set false. @defaultValue true */
  listen?: boolean;
};

export type RunningNode = {
  chainId: number;
  collection: string;
  signerAddress: string;
  generateQueue: Queue<GenerateJobData>;
  fulfillQueue: Queue<FulfillJobData | RejectJobData>;
  listener?: Listener;
  /** Stops listening, lets in-flight jobs finish, closes connections. */
  stop(): Promise<void>;
};

/**
 * The composition root of the operator node: listener → `generate` queue → gateway, Arweave, signature →
 * `fulfill` queue → chain. Everything the node does is wired here and nowhere else.
 *
 * @example
 * const node = await startNode({ config: loadConfig(), template: loadTemplate('genesis') });
 * process.once('SIGTERM', () => node.stop());
 */
export async function startNode({ config, template, logger = createLogger({ level: config.logLevel }), listen = true }: StartNodeParameters): Promise<RunningNode> {
  const rpcUrl = requireSetting(config.chain.rpcUrl, 'chain.rpcUrl');
  const collection = requireSetting(config.collection.address, 'collection.address');
  const privateKey = requireSetting(config.signer.privateKey, 'signer.privateKey');
  const gatewayUrl = requireSetting(config.gateway.url, 'gateway.url');
  const arweaveUrl = requireSetting(config.arweave.url, 'arweave.url');
  const walletPath = requireSetting(config.arweave.walletPath, 'arweave.walletPath');
  const redisUrl = requireSetting(config.redis.url, 'redis.url');

  const provider = createProvider(rpcUrl);
  const chainId = Number((await provider.getNetwork()).chainId);
  const signer = new Wallet(privateKey, provider);
  const signerAddress = await signer.getAddress();
  const contract = connectCollection(collection, signer);
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = config.redis.prefix;
  const store = await createArweaveStore({ url: arweaveUrl, jwk: await loadWallet(walletPath) });
  const gateway = createGatewayClient({ url: gatewayUrl, apiKey: config.gateway.apiKey, timeoutMs: config.gateway.timeoutMs });

  const connection = redis;
  const keepDone = { removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 30 * 24 * 3600 } };
  const generateQueue = new Queue<GenerateJobData>(QUEUE.generate, {
    connection,
    prefix,
    defaultJobOptions: { attempts: config.generate.attempts, backoff: { type: 'exponential', delay: config.generate.backoffMs }, ...keepDone },
  });
  const fulfillQueue = new Queue<FulfillJobData | RejectJobData>(QUEUE.fulfill, {
    connection,
    prefix,
    defaultJobOptions: { attempts: config.fulfill.attempts, backoff: { type: 'exponential', delay: config.fulfill.backoffMs }, ...keepDone },
  });

  const generateWorker = new Worker<GenerateJobData>(
    QUEUE.generate,
    createGenerateProcessor({ gateway, store, signer, template, redis, outputKeyPrefix: `${prefix}:out`, fulfillQueue: fulfillQueue as Queue<FulfillJobData>, logger }),
    { connection, prefix, concurrency: config.generate.concurrency },
  );
  const fulfillWorker = new Worker<FulfillJobData | RejectJobData>(QUEUE.fulfill, createFulfillProcessor({ contract, logger }), {
    connection,
    prefix,
    concurrency: 1,
  });

  // A request that cannot be rendered ends in a refund on chain, never in silence.
  generateWorker.on('failed', (job: Job<GenerateJobData> | undefined, error: Error) => {
    if (!job) return;
    const final = error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    logger.warn({ requestId: job.data.request.requestId, attempt: job.attemptsMade, final, err: errorMessage(error) }, 'generate failed');
    if (!final) return;
    const reason = error.name === 'UnrecoverableError' ? REJECT_REASON.INVALID_PROMPT : REJECT_REASON.GENERATION_FAILED;
    void fulfillQueue
      .add('reject', { ...job.data, reason, message: errorMessage(error) }, { jobId: job.id })
      .catch((e) => logger.error({ err: errorMessage(e) }, 'could not enqueue reject'));
  });
  for (const worker of [generateWorker, fulfillWorker]) {
    worker.on('error', (error) => logger.error({ queue: worker.name, err: errorMessage(error) }, 'worker error'));
  }

  const listener = listen
    ? startListener({
        provider,
        redis,
        cursorKey: `${prefix}:cursor:${chainId}:${collection.toLowerCase()}`,
        collection,
        confirmations: config.chain.confirmations,
        pollIntervalMs: config.chain.pollIntervalMs,
        maxBlockRange: config.chain.maxBlockRange,
        startBlock: config.chain.startBlock,
        logger,
        async onRequests(requests) {
          await generateQueue.addBulk(
            requests.map((r) => ({
              name: 'generate',
              data: { chainId, collection, request: requestToJson(r) },
              opts: { jobId: requestJobId(chainId, collection, r.requestId) },
            })),
          );
          logger.info({ count: requests.length, requestIds: requests.map((r) => r.requestId.toString()) }, 'requests enqueued');
        },
      })
    : undefined;

  logger.info({ chainId, collection, signer: signerAddress, arweave: store.address }, 'node started');

  return {
    chainId,
    collection,
    signerAddress,
    generateQueue,
    fulfillQueue,
    listener,
    async stop() {
      await listener?.stop();
      await generateWorker.close();
      await fulfillWorker.close();
      await generateQueue.close();
      await fulfillQueue.close();
      await redis.quit();
      provider.destroy();
      logger.info('node stopped');
    },
  };
}
