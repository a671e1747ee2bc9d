import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Wallet } from 'ethers';
import IORedis from 'ioredis';
import type { Logger } from 'pino';
import { connectCollection } from './chain/collection';
import { createFulfillBatcher } from './chain/fulfiller';
import { type Listener, startListener } from './chain/listener';
import { createProvider } from './chain/provider';
import { findOpenRequests } from './chain/reconcile';
import { type MintRequest, requestToJson } from './chain/request';
import { createTxSender } from './chain/tx-sender';
import { type Config, requireSetting } from './config';
import { errorMessage } from './errors';
import { createGatewayClient } from './gateway-client';
import { startHttpServer } from './http/server';
import { createLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createFulfillProcessor } from './queue/fulfill';
import { createGenerateProcessor } from './queue/generate';
import { type FulfillJobData, type GenerateJobData, type MintForJobData, type MintForResult, QUEUE, REJECT_REASON, type RejectJobData, requestJobId } from './queue/jobs';
import { type Leadership, startLeadership } from './queue/leader';
import { indexRequests } from './queue/request-index';
import { createArweaveStore, loadWallet } from './storage/arweave';
import type { CollectionTemplate } from './template';
import { createWeb2 } from './web2';

export type StartNodeParameters = {
  config: Config;
  /** The collection's template (render settings, name, description). */
  template: CollectionTemplate;
  logger?: Logger;
  /**
   * Take part in the leader election (listener, reconciliation, chain writes). Nodes that only add render
   * capacity set false and run `generate` workers only. @defaultValue true
   */
  listen?: boolean;
};

export type RunningNode = {
  chainId: number;
  collection: string;
  signerAddress: string;
  generateQueue: Queue<GenerateJobData>;
  fulfillQueue: Queue<FulfillJobData | RejectJobData>;
  /** Sponsored mints (`POST /v1/mints`) waiting for the leader to pay them. */
  mintForQueue: Queue<MintForJobData, MintForResult>;
  metrics: Metrics;
  /** Base URL of /healthz, /readyz, /metrics (when enabled). */
  httpUrl?: string;
  readonly isLeader: boolean;
  /** Stops listening, lets in-flight jobs finish, closes connections. */
  stop(): Promise<void>;
};

/**
 * Jobs of a process that died are taken back after `lockDuration` (a live worker renews its locks every half of
 * it). A crash-looping host must not fail work for good, so a job may stall many times.
 */
const STALL = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 10 };

/** Error codes that mean the render itself failed (so the request is refunded once attempts run out). */
const RENDER_FAILURES = new Set([
  'GATEWAY_FAILED',
  'TIMEOUT',
  'INVALID_REQUEST',
  'CONTENT_REJECTED',
  'BACKEND_FAILED',
  'BACKEND_BUSY',
  'BACKEND_TIMEOUT',
  'BACKEND_UNAVAILABLE',
]);

/** Wraps a stage processor with its latency histogram and failure counter. */
function observed<T, R>(metrics: Metrics, stage: string, process: (job: Job<T>, token?: string) => Promise<R>) {
  return async (job: Job<T>, token?: string): Promise<R> => {
    const end = metrics.stageSeconds.startTimer({ stage });
    try {
      return await process(job, token);
    } catch (error) {
      if (error instanceof DelayedError) throw error; // waiting as the gateway asked; not a failure
      metrics.failures.inc({ stage, reason: (error as { code?: string }).code ?? (error as Error).name ?? 'Error' });
      throw error;
    } finally {
      end();
    }
  };
}

/**
 * The composition root of the operator node: listener → `generate` queue → gateway, Arweave, signature →
 * `fulfill` queue → batched chain writes. Everything the node does is wired here and nowhere else.
 *
 * One node per collection is leader (a Redis lock): it reconciles open requests from the chain, listens, and is
 * the only writer for the signer key. Every node runs `generate` workers; that is how an operator scales out.
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
  const signerAddress = signer.address;
  const contract = connectCollection(collection, signer);
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = config.redis.prefix;
  const store = await createArweaveStore({ url: arweaveUrl, jwk: await loadWallet(walletPath) });
  const gateway = createGatewayClient({ url: gatewayUrl, apiKey: config.gateway.apiKey, timeoutMs: config.gateway.timeoutMs });
  const metrics = createMetrics();

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

  const enqueue = async (requests: MintRequest[]) => {
    if (!requests.length) return;
    await indexRequests({ redis, prefix, chainId, collection }, requests); // web2: status lookups by request id
    await generateQueue.addBulk(
      requests.map((r) => ({
        name: 'generate',
        data: { chainId, collection, request: requestToJson(r) },
        opts: { jobId: requestJobId(chainId, collection, r) },
      })),
    );
    logger.info({ count: requests.length, requestIds: requests.map((r) => r.requestId.toString()) }, 'requests enqueued');
  };

  /**
   * Re-enqueues open requests found on chain. New ones are added; a job that failed without ending its request
   * (e.g. it stalled in processes that were killed) is retried; a completed render whose fulfilment job is gone
   * or failed is fulfilled again from its stored outputs. Nothing already minted or rejected is touched.
   */
  const requeueOpen = async (requests: MintRequest[]) => {
    await enqueue(requests);
    for (const r of requests) {
      const id = requestJobId(chainId, collection, r);
      const gen = await generateQueue.getJob(id);
      const genState = await gen?.getState();
      const ful = await fulfillQueue.getJob(id);
      const fulState = await ful?.getState();
      if (fulState === 'failed') await ful!.retry();
      else if (genState === 'failed' && !ful) await gen!.retry();
      else if (genState === 'completed' && (!ful || fulState === 'completed')) {
        // Rendered (and maybe "minted" in a block that a reorg removed) yet open: sign and fulfil again from the
        // stored outputs; nothing is rendered or uploaded twice.
        await ful?.remove();
        await gen!.remove();
        await enqueue([r]);
      }
    }
  };

  const generateWorker = new Worker<GenerateJobData>(
    QUEUE.generate,
    observed(
      metrics,
      'generate',
      createGenerateProcessor({ gateway, store, signer, template, redis, contract, outputKeyPrefix: `${prefix}:out`, fulfillQueue: fulfillQueue as Queue<FulfillJobData>, logger }),
    ),
    { connection, prefix, concurrency: config.generate.concurrency, ...STALL },
  );
  // A request that cannot be rendered ends in a refund on chain, never in silence. Failures of our own
  // infrastructure (Arweave, RPC, Redis) do not: the job stays failed and reconciliation retries it later.
  generateWorker.on('failed', (job: Job<GenerateJobData> | undefined, error: Error) => {
    if (!job) return;
    const code = (error as { code?: string }).code ?? '';
    const final = error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    const renderFailed = RENDER_FAILURES.has(code);
    logger.warn({ requestId: job.data.request.requestId, attempt: job.attemptsMade, final, renderFailed, err: errorMessage(error) }, 'generate failed');
    if (!final || !renderFailed) return;
    const reason =
      code === 'CONTENT_REJECTED' ? REJECT_REASON.CONTENT_REJECTED : code === 'INVALID_REQUEST' ? REJECT_REASON.INVALID_PROMPT : REJECT_REASON.GENERATION_FAILED;
    void fulfillQueue
      .add('reject', { ...job.data, reason, message: errorMessage(error) }, { jobId: job.id })
      .catch((e) => logger.error({ err: errorMessage(e) }, 'could not enqueue reject'));
  });

  // Leader-only parts: reconciliation, listener, the chain writer.
  let listener: Listener | undefined;
  let fulfillWorker: Worker<FulfillJobData | RejectJobData> | undefined;
  let mintForWorker: Worker<MintForJobData, MintForResult> | undefined;
  const sender = createTxSender({ wallet: signer, provider, stuckAfterMs: config.fulfill.stuckAfterMs, logger });
  // ── Web2 entry point: any node queues sponsored mints (POST /v1/mints); the leader pays them through `sender`.
  const web2 = createWeb2({ config, redis, chainId, collection, contract, provider, signerAddress, sender, generateQueue, fulfillQueue, logger });
  const batcher = createFulfillBatcher({
    contract,
    sender,
    batchSize: config.fulfill.batchSize,
    batchWindowMs: config.fulfill.batchWindowMs,
    logger,
    onBatch: ({ minted, gasUsed }) => {
      metrics.minted.inc(minted);
      metrics.fulfillGas.inc(Number(gasUsed));
    },
  });
  const cursorKey = `${prefix}:cursor:${chainId}:${collection.toLowerCase()}`;

  const reconcile = async () => {
    const latest = await provider.getBlockNumber();
    const safeHead = latest - config.chain.confirmations;
    const open = await findOpenRequests({
      contract,
      fromBlock: config.chain.startBlock,
      toBlock: safeHead,
      latestBlock: latest,
      maxBlockRange: config.chain.maxBlockRange,
    });
    await requeueOpen(open);
    return { open: open.length, safeHead };
  };
  let reconcileTimer: NodeJS.Timeout | undefined;

  const onElected = async () => {
    metrics.isLeader.set(1);
    // The chain is the durable log: enqueue every open request (job ids make this idempotent), then listen on.
    const { open, safeHead } = await reconcile();
    if ((await redis.get(cursorKey)) === null) await redis.set(cursorKey, String(Math.max(safeHead, config.chain.startBlock - 1)));
    logger.info({ open, safeHead }, 'leader: reconciled open requests from chain');
    fulfillWorker = new Worker<FulfillJobData | RejectJobData>(
      QUEUE.fulfill,
      observed(metrics, 'fulfill', createFulfillProcessor({ contract, sender, batcher, logger })),
      { connection, prefix, concurrency: config.fulfill.batchSize, ...STALL },
    );
    fulfillWorker.on('error', (error) => logger.error({ queue: QUEUE.fulfill, err: errorMessage(error) }, 'worker error'));
    // Web2: sponsored mints are sent by the same serial writer as fulfilment.
    mintForWorker = new Worker<MintForJobData, MintForResult>(QUEUE.mintFor, observed(metrics, 'mint-for', web2.processor), { connection, prefix, concurrency: 2, ...STALL });
    mintForWorker.on('error', (error) => logger.error({ queue: QUEUE.mintFor, err: errorMessage(error) }, 'worker error'));
    listener = startListener({
      provider,
      redis,
      cursorKey,
      collection,
      confirmations: config.chain.confirmations,
      pollIntervalMs: config.chain.pollIntervalMs,
      maxBlockRange: config.chain.maxBlockRange,
      startBlock: config.chain.startBlock,
      logger,
      onRequests: enqueue,
    });
    // Periodically, so work lost in ways the listener cannot see (a reorged-out fulfilment) is found again.
    const again = () => {
      reconcileTimer = setTimeout(() => {
        void reconcile()
          .catch((error) => logger.warn({ err: errorMessage(error) }, 'reconcile failed'))
          .finally(() => listener && again());
      }, config.chain.reconcileIntervalMs);
    };
    again();
  };
  const onDeposed = async () => {
    metrics.isLeader.set(0);
    clearTimeout(reconcileTimer);
    await listener?.stop();
    await fulfillWorker?.close();
    await mintForWorker?.close(); // web2
    listener = undefined;
    fulfillWorker = undefined;
    mintForWorker = undefined;
    logger.info('no longer leader');
  };
  const leadership: Leadership | undefined = listen
    ? startLeadership({ redis, key: `${prefix}:leader:${chainId}:${collection.toLowerCase()}`, ttlMs: config.leaderTtlMs, onElected, onDeposed, logger })
    : undefined;
  generateWorker.on('error', (error) => logger.error({ queue: QUEUE.generate, err: errorMessage(error) }, 'worker error'));

  const http = config.http.enabled
    ? await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        registry: metrics.registry,
        checks: [
          { name: 'redis', check: () => redis.ping() },
          { name: 'rpc', check: () => provider.getBlockNumber() },
          { name: 'gateway', check: async () => assertOk(await fetch(new URL('/healthz', gatewayUrl))) },
          { name: 'arweave', check: async () => assertOk(await fetch(new URL('/info', arweaveUrl))) },
        ],
        api: web2.api, // web2: /v1/mints, /v1/requests
        async beforeScrape() {
          for (const queue of [generateQueue, fulfillQueue, web2.mintForQueue]) {
            const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
            for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ queue: queue.name, state }, n);
          }
          metrics.signerBalance.set(Number(await provider.getBalance(signerAddress)));
        },
      })
    : undefined;

  logger.info({ chainId, collection, signer: signerAddress, arweave: store.address, http: http?.url }, 'node started');

  return {
    chainId,
    collection,
    signerAddress,
    generateQueue,
    fulfillQueue,
    mintForQueue: web2.mintForQueue,
    metrics,
    httpUrl: http?.url,
    get isLeader() {
      return leadership?.isLeader ?? false;
    },
    async stop() {
      await leadership?.stop();
      await generateWorker.close();
      await batcher.flush();
      await http?.close();
      await generateQueue.close();
      await fulfillQueue.close();
      await web2.close();
      await redis.quit();
      provider.destroy();
      logger.info('node stopped');
    },
  };
}

function assertOk(res: Response): void {
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}
