import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Router } from 'express';
import IORedis from 'ioredis';
import type { Logger } from 'pino';
import { createAttester } from './attest/create';
import type { Attester } from './attest/types';
import { connectCollection } from './chain/collection';
import { createFulfillBatcher } from './chain/fulfiller';
import { connectProvider } from './chain/provider';
import { createDrops, type DropOutcome } from './drop/feature';
import { createTxSender } from './chain/tx-sender';
import { assertComplete, type Config, requireSetting, resolveCollections } from './config';
import { AigcError, type ErrorCode, errorMessage } from './errors';
import { loadSigningCredentials, type SigningCredentials } from './credentials/credentials';
import { createGatewayClient } from './gateway-client';
import { createCollectionRouter } from './http/collection-routes';
import { createMintPageRouter } from './http/mint-page-routes';
import { startHttpServer } from './http/server';
import { createStatusRouter } from './http/status';
import { createScope, type Scope } from './lifecycle';
import { createLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createHttpClient } from './net/http-client';
import { createFulfillProcessor } from './queue/fulfill';
import { createGenerateProcessor, type Publishing } from './queue/generate';
import {
  type ChainWriteJobData,
  collectionKey,
  type DropJobData,
  type GenerateJobData,
  type MintForJobData,
  type MintForResult,
  QUEUE,
} from './queue/jobs';
import { jobErrorCode } from './queue/job-error';
import { currentLease, startLeadership } from './queue/leader';
import { createIntake } from './runtime/intake';
import { createLeaderDuties } from './runtime/leader-duties';
import { createNodeStatusReader, queueDepths } from './runtime/node-status';
import type { ChainRuntime, CollectionRuntime } from './runtime/types';
import { observed, RENDER_FAILURES, rejectReasonOf, STALL } from './runtime/workers';
import { createSponsoredMints } from './sponsored/feature';
import { startupChecks } from './startup/node-checks';
import { createSponsoredRouter } from './sponsored/routes';
import { createArweaveStore, loadWallet } from './storage/arweave';
import { createBundlePublisher, ethereumItemSigner } from './storage/bundle';
import { createBundleLedger } from './storage/bundle-ledger';
import { createConfirmationWatcher } from './storage/confirmations';
import { type CollectionTemplate, loadTemplate } from './template';
import { APP_NAME, APP_VERSION } from './version';

export type StartNodeParameters = {
  config: Config;
  /** Template of `collection.address`, instead of loading `collection.template` (tests, the demo). */
  template?: CollectionTemplate;
  logger?: Logger;
  /**
   * Take part in the leader elections (listeners, reconciliation, chain writes). Nodes that only add render
   * capacity set false and run `generate` workers only. @defaultValue true
   */
  listen?: boolean;
  /** The provenance signer; else made from `config.signer` by `createAttester`. */
  attester?: Attester;
};

export type ServedCollection = { chainId: number; address: string; template: CollectionTemplate };

export type RunningNode = {
  /** Chain and address of the first collection served (see `collections` for all). */
  chainId: number;
  collection: string;
  collections: ServedCollection[];
  signerAddress: string;
  generateQueue: Queue<GenerateJobData>;
  /** The `fulfill` queue of the first collection's chain. */
  fulfillQueue: Queue<ChainWriteJobData>;
  /** Sponsored mints (`POST /v1/mints`) of the first collection's chain, waiting for its leader to pay them. */
  mintForQueue: Queue<MintForJobData, MintForResult>;
  metrics: Metrics;
  /** Base URL of /healthz, /readyz, /metrics (when enabled). */
  httpUrl?: string;
  /** Leader of the first collection's chain. */
  readonly isLeader: boolean;
  /** Stops listening, lets in-flight jobs finish, closes connections. */
  stop(): Promise<void>;
  /** While `stop()` runs: the part it is waiting for (e.g. `generate worker`), to name it when a stop hangs. */
  readonly stopping: string | undefined;
};

/**
 * The composition root of the operator node: listeners → `generate` queue → gateway, Arweave, signature →
 * per-chain `fulfill` queue → batched chain writes. Everything the node does is wired here and nowhere else.
 *
 * One node serves any number of collections on any number of chains. Per chain, one node is leader (a Redis lock
 * per chain and signer key): it reconciles open requests from the chain, listens to every collection, and is the
 * only writer for the signer key there. Every node runs `generate` workers; that is how an operator scales out.
 *
 * @example
 * const node = await startNode({ config: loadConfig() });
 * process.once('SIGTERM', () => node.stop());
 */
export async function startNode(parameters: StartNodeParameters): Promise<RunningNode> {
  const logger = parameters.logger ?? createLogger({ level: parameters.config.logLevel });
  // Each part registers how to stop it as soon as it is started: a start that fails half-way (an RPC that does not
  // answer, a bad template) stops what was started, in reverse order, and leaves nothing open.
  const scope = createScope(logger);
  try {
    return await assembleNode(scope, { ...parameters, logger });
  } catch (error) {
    await scope.close();
    throw error;
  }
}

async function assembleNode(
  scope: Scope,
  { config, template, logger, listen = true, ...given }: StartNodeParameters & { logger: Logger },
): Promise<RunningNode> {
  assertComplete(config);
  const targets = resolveCollections(config);
  const gatewayUrl = requireSetting(config.gateway.url, 'gateway.url');
  const arweaveUrl = requireSetting(config.arweave.url, 'arweave.url');
  const walletPath = requireSetting(config.arweave.walletPath, 'arweave.walletPath');
  const redisUrl = requireSetting(config.redis.url, 'redis.url');
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  scope.defer('redis', () => (redis.status === 'ready' ? redis.quit() : redis.disconnect()));
  // ioredis prints every failed reconnect to the console unless someone listens: log them, at most one a minute.
  let quietUntil = 0;
  redis.on('error', (error: Error) => {
    if (Date.now() < quietUntil) return;
    quietUntil = Date.now() + 60_000;
    logger.warn({ err: errorMessage(error) }, 'redis connection error');
  });
  await assertRedisAnswers(redis, redisUrl);
  const connection = redis;
  const prefix = config.redis.prefix;
  const metrics = createMetrics();

  // Every upload is followed until it is confirmed; its signed header and bytes are kept until then.
  const watcher =
    config.arweave.confirmations > 0
      ? createConfirmationWatcher({
          redis,
          // Per node: the bytes are kept on this host's disk.
          key: `${prefix}:arweave:pending:${hostId(config.dataDir)}`,
          spoolDir: path.resolve(config.dataDir, 'arweave-spool'),
          confirmations: config.arweave.confirmations,
          pollMs: config.arweave.confirmPollMs,
          dropAfterMs: config.arweave.dropAfterMs,
          logger,
          onCheck: ({ pending, confirmed, reposted, lost }) => {
            metrics.arweavePending.set(pending);
            metrics.arweaveConfirmed.inc(confirmed);
            metrics.arweaveReposted.inc(reposted);
            metrics.arweaveLost.set(lost);
          },
        })
      : undefined;
  const store = await createArweaveStore({ url: arweaveUrl, jwk: await loadWallet(walletPath), journal: watcher });
  watcher?.start(store);
  if (watcher) scope.defer('arweave confirmations', () => watcher.stop());
  const attester = given.attester ?? (await createAttester(config, { store, logger }));
  const signerAddress = attester.wallet.address;
  const gateway = createGatewayClient({ url: gatewayUrl, apiKey: config.gateway.apiKey, timeoutMs: config.gateway.timeoutMs });
  const itemSigner = config.arweave.mode === 'bundle' ? ethereumItemSigner(attester.wallet.privateKey) : undefined;
  const publishing: Publishing = itemSigner
    ? {
        mode: 'bundle',
        signer: itemSigner,
        publisher: createBundlePublisher({
          store,
          signer: itemSigner,
          tags: { 'App-Name': APP_NAME, 'App-Version': APP_VERSION },
          windowMs: config.arweave.bundleWindowMs,
          maxBytes: config.arweave.bundleMaxBytes,
          uploads: config.arweave.bundleUploads,
          ledger: createBundleLedger({ redis, prefix: `${prefix}:bundles` }),
          logger,
          onResumed: () => metrics.bundleUploadsResumed.inc(),
          onAbandoned: () => metrics.bundleUploadsAbandoned.inc(),
          onRepublished: (items) => metrics.bundleItemsRepublished.inc(items),
        }),
      }
    : { mode: 'transactions' };
  if (publishing.mode === 'bundle') {
    const publisher = publishing.publisher;
    scope.defer('bundle publisher', () => publisher.close());
    // Bundle uploads a stopped process left unfinished: resumed (or abandoned) now, not only when a job retries.
    void publisher.recover().catch((error) => logger.warn({ err: errorMessage(error) }, 'bundle recovery failed'));
  }

  const keepDone = { removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 30 * 24 * 3600 } };
  const generateQueue = new Queue<GenerateJobData>(QUEUE.generate, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: config.generate.attempts,
      backoff: { type: 'exponential', delay: config.generate.backoffMs },
      ...keepDone,
    },
  });
  // Queues re-emit their connection's errors (Redis gone, a stop under way); unheard, one would end the process.
  const onQueueError = (queue: string) => (error: Error) => logger.warn({ queue, err: errorMessage(error) }, 'queue error');
  generateQueue.on('error', onQueueError(QUEUE.generate));
  scope.defer('generate queue', () => generateQueue.close());

  // Chains first (one provider and one sender per chain id), then each collection on its chain.
  const chains = new Map<number, ChainRuntime>();
  const byKey = new Map<string, CollectionRuntime>();
  for (const target of targets) {
    const provider = await connectProvider(target.chain.rpcUrl);
    const chainId = Number((await provider.getNetwork()).chainId);
    let chain = chains.get(chainId);
    if (chain) provider.destroy();
    else {
      scope.defer(`provider ${chainId}`, () => provider.destroy());
      const signer = attester.wallet.connect(provider);
      chain = {
        chainId,
        provider,
        signer,
        sender: createTxSender({
          wallet: signer,
          provider,
          stuckAfterMs: config.fulfill.stuckAfterMs,
          // Only under this chain's leader lease: a deposed node sends nothing, even work it had already queued.
          fence: () => currentLease(chains.get(chainId)?.leadership),
          logger: logger.child({ chainId }),
        }),
        fulfillQueue: new Queue<ChainWriteJobData>(`${QUEUE.fulfill}-${chainId}`, {
          connection,
          prefix,
          defaultJobOptions: {
            attempts: config.fulfill.attempts,
            backoff: { type: 'exponential', delay: config.fulfill.backoffMs },
            ...keepDone,
          },
        }),
        collections: [],
      };
      chains.set(chainId, chain);
      const fulfillQueue = chain.fulfillQueue;
      fulfillQueue.on('error', onQueueError(fulfillQueue.name));
      scope.defer(`fulfill queue ${chainId}`, () => fulfillQueue.close());
    }
    const address = target.address;
    if (byKey.has(collectionKey(chainId, address)))
      throw new AigcError('CONFIG_INVALID', `collection ${address} on chain ${chainId} is configured twice`);
    const contract = connectCollection(address, chain.signer);
    const collectionTemplate = template && target === targets[0] && config.collection.address ? template : loadTemplate(target.template);
    const log = logger.child({ chainId, collection: address });
    const batcher = createFulfillBatcher({
      contract,
      sender: chain.sender,
      batchSize: config.fulfill.batchSize,
      batchWindowMs: config.fulfill.batchWindowMs,
      logger: log,
      onBatch: ({ minted, gasUsed, skipped }) => {
        metrics.minted.inc(minted);
        metrics.fulfillGas.inc(Number(gasUsed));
        for (const reason of skipped) metrics.fulfilSkipped.inc({ chain: String(chainId), reason });
      },
      onDropped: (count) => metrics.fulfilDropped.inc({ chain: String(chainId) }, count),
    });
    const runtime: CollectionRuntime = {
      target,
      chainId,
      address,
      template: collectionTemplate,
      contract,
      batcher,
      cursorKey: `${prefix}:cursor:${chainId}:${address.toLowerCase()}`,
      generate: createGenerateProcessor({
        gateway,
        store,
        publishing,
        signer: chain.signer,
        attestation: attester.attestation,
        template: collectionTemplate,
        redis,
        contract,
        outputKeyPrefix: `${prefix}:out`,
        fulfillQueue: chain.fulfillQueue,
        credentials: collectionTemplate.credentials?.c2pa ? signingCredentials(config, address) : undefined,
        logger: log,
      }),
      fulfill: createFulfillProcessor({ contract, sender: chain.sender, batcher, queue: chain.fulfillQueue, logger: log }),
    };
    chain.collections.push(runtime);
    byKey.set(collectionKey(chainId, address), runtime);
    scope.defer(`fulfil batcher ${address}`, () => batcher.flush());
  }
  // Before any worker or election starts: a setting that cannot work refuses the start in one line.
  const checks = await startupChecks({ config, chains, signerAddress, store, gatewayUrl, arweaveUrl, listen, logger });

  const runtimeOf = (data: { chainId: number; collection: string }) => {
    const runtime = byKey.get(collectionKey(data.chainId, data.collection));
    if (!runtime)
      throw new UnrecoverableError(`collection ${data.collection} on chain ${data.chainId} is not in this node's configuration`);
    return runtime;
  };

  // ── Sponsored mints: any node queues them (POST /v1/mints); each chain's leader pays them.
  const sponsored = createSponsoredMints({
    config,
    redis,
    signerAddress,
    generateQueue,
    logger,
    collections: [...byKey.values()].map((c) => {
      const chain = chains.get(c.chainId)!;
      return {
        chainId: c.chainId,
        address: c.address,
        contract: c.contract,
        provider: chain.provider,
        startBlock: c.target.chain.startBlock,
        maxBlockRange: c.target.chain.maxBlockRange,
        sender: chain.sender,
        fulfillQueue: chain.fulfillQueue,
      };
    }),
  });
  scope.defer('sponsored mints', () => sponsored.close());

  const intake = createIntake({ redis, prefix, generateQueue, logger });
  const duties = createLeaderDuties({ config, redis, connection, prefix, metrics, logger, intake, sponsored, collectionOf: runtimeOf });

  const generateWorker = new Worker<GenerateJobData>(
    QUEUE.generate,
    observed(metrics, 'generate', (job, token) => runtimeOf(job.data).generate(job, token)),
    { connection, prefix, concurrency: config.generate.concurrency, ...STALL },
  );
  // A request that cannot be rendered ends in a refund on chain, never in silence. Failures of our own
  // infrastructure (Arweave, RPC, Redis) do not: the job stays failed and reconciliation retries it later.
  generateWorker.on('failed', (job: Job<GenerateJobData> | undefined, error: Error) => {
    if (!job) return;
    const code = jobErrorCode(error);
    const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    const renderFailed = code !== undefined && RENDER_FAILURES.has(code);
    logger.warn(
      { requestId: job.data.request.requestId, attempt: job.attemptsMade, final, renderFailed, err: errorMessage(error) },
      'generate failed',
    );
    const chain = chains.get(job.data.chainId);
    if (!final || !renderFailed || !chain) return;
    void chain.fulfillQueue
      .add('reject', { kind: 'reject', ...job.data, reason: rejectReasonOf(code), message: errorMessage(error) }, { jobId: job.id })
      .catch((e) => logger.error({ err: errorMessage(e) }, 'could not enqueue reject'));
  });
  generateWorker.on('error', (error) => logger.error({ queue: QUEUE.generate, err: errorMessage(error) }, 'worker error'));
  scope.defer('generate worker', () => generateWorker.close());
  // BullMQ drops a worker's listeners when it closes; a connection still starting then reports its failure to nobody
  // (an uncaught "Connection is closed"). Waiting here means a stop never meets a half-made connection.
  await generateWorker.waitUntilReady();

  // ── Drops: collections whose template has `drop` get one sponsored mint per period, fired by a job scheduler that
  // every node upserts under the same id; the period's mint id makes any repeated firing a no-op. Render-only nodes
  // leave the schedules alone.
  if (listen) {
    const drops = createDrops({
      connection,
      prefix,
      collections: [...byKey.values()],
      sponsored,
      attempts: config.fulfill.attempts,
      backoffMs: config.fulfill.backoffMs,
      metrics,
      logger,
    });
    scope.defer('drop queue', () => drops.close());
    if (drops.active) {
      const dropWorker = new Worker<DropJobData, DropOutcome[]>(QUEUE.drop, observed(metrics, 'drop', drops.processor), {
        connection,
        prefix,
        concurrency: 1,
        ...STALL,
      });
      dropWorker.on('failed', (job, error) =>
        logger.warn({ collection: job?.data.collection, attempt: job?.attemptsMade, err: errorMessage(error) }, 'drop failed'),
      );
      dropWorker.on('error', (error) => logger.error({ queue: QUEUE.drop, err: errorMessage(error) }, 'worker error'));
      // Stopped, not removed: the schedules stay for the other nodes and the next start.
      scope.defer('drop worker', () => dropWorker.close());
      await dropWorker.waitUntilReady(); // as the generate worker's
    }
    await drops.schedule();
  }

  const leaderKey = (chainId: number) => `${prefix}:leader:${chainId}:${signerAddress.toLowerCase()}`;
  if (listen) {
    for (const chain of chains.values()) {
      chain.leadership = startLeadership({
        redis,
        key: leaderKey(chain.chainId),
        ttlMs: config.leaderTtlMs,
        onElected: () => duties.onElected(chain),
        onDeposed: () => duties.onDeposed(chain),
        logger,
      });
      const leadership = chain.leadership;
      scope.defer(`leadership ${chain.chainId}`, () => leadership.stop());
    }
  }

  const servedQueues = () => [generateQueue, ...[...chains.values()].map((c) => c.fulfillQueue), ...sponsored.mintForQueues.values()];
  const readStatus = createNodeStatusReader({
    redis,
    signerAddress,
    version: APP_VERSION,
    queues: servedQueues,
    chains,
    leaderKey,
  });

  // What a mint page reads (GET /v1/collections/…, /embed.js, /mint/…), before the sponsored API's /v1 catch-all.
  const pages = [...byKey.values()].map((c) => ({
    chainId: c.chainId,
    address: c.address,
    name: c.template.name,
    template: c.template,
    contract: c.contract,
    startBlock: c.target.chain.startBlock,
  }));
  const mintPageApi = Router().use(
    createCollectionRouter({ collections: pages, corsOrigins: config.api.corsOrigins, arweaveGateway: arweaveUrl, logger }),
    createMintPageRouter({ collections: pages }),
  );
  const http = config.http.enabled
    ? await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        timeouts: config.http,
        registry: metrics.registry,
        checks: [
          { name: 'redis', check: () => redis.ping() },
          ...[...chains.values()].map((chain) => ({ name: `rpc:${chain.chainId}`, check: () => chain.provider.getBlockNumber() })),
          { name: 'arweave', check: async () => assertOk(await probeOf(arweaveUrl, 'Arweave gateway', 'ARWEAVE_FAILED').get('/info')) },
          ...checks, // the start-up checks, again: the gateway and its key, collections, signer, balances
        ],
        // Status and the mint page's routes first: the sponsored router answers 404 for any other /v1 route.
        api: Router().use(createStatusRouter(readStatus), mintPageApi, createSponsoredRouter(sponsored.api)), // /v1/status, mint page, /v1/mints, /v1/requests
        async beforeScrape() {
          for (const { name, ...counts } of await queueDepths(servedQueues()))
            for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ queue: name, state }, n);
          for (const chain of chains.values())
            metrics.signerBalance.set({ chain: String(chain.chainId) }, Number(await chain.provider.getBalance(signerAddress)));
        },
      })
    : undefined;
  if (http) scope.defer('http server', () => http.close());

  const served = [...byKey.values()].map((c) => ({ chainId: c.chainId, address: c.address, template: c.template }));
  const first = chains.get(served[0].chainId)!;
  logger.info(
    {
      collections: served.map((c) => `${c.chainId}:${c.address}`),
      signer: signerAddress,
      arweave: store.address,
      arweaveMode: publishing.mode,
      http: http?.url,
    },
    'node started',
  );

  return {
    chainId: served[0].chainId,
    collection: served[0].address,
    collections: served,
    signerAddress,
    generateQueue,
    fulfillQueue: first.fulfillQueue,
    mintForQueue: sponsored.mintForQueues.get(first.chainId)!,
    metrics,
    httpUrl: http?.url,
    get isLeader() {
      return first.leadership?.isLeader ?? false;
    },
    async stop() {
      await scope.close();
      logger.info('node stopped');
    },
    get stopping() {
      return scope.stopping;
    },
  };
}

/** Waits for Redis to answer a PING; one clear error instead of a node that retries a dead Redis forever. */
async function assertRedisAnswers(redis: IORedis, url: string, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  // The first connection error fails at once (a refused connection is not worth waiting for).
  const refused = new Promise<never>((_, reject) => redis.once('error', reject));
  try {
    await Promise.race([redis.ping(), timeout, refused]);
  } catch (cause) {
    const where = url.replace(/\/\/[^@/]*@/, '//'); // never print a password
    throw new AigcError('REDIS_UNAVAILABLE', `Redis at ${where} does not answer: start it or set REDIS_URL`, {
      cause,
      details: errorMessage(cause),
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Names this host and data directory (stable across restarts), for state that lives on its disk. */
function hostId(dataDir: string): string {
  return createHash('sha256')
    .update(`${os.hostname()}\n${path.resolve(dataDir)}`)
    .digest('hex')
    .slice(0, 12);
}

function assertOk(res: { ok: boolean; status: number }): void {
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

/** A short-timeout client for a readiness check of `baseUrl`. */
function probeOf(baseUrl: string, name: string, errorCode: ErrorCode) {
  return createHttpClient({ baseUrl, name, errorCode, timeoutMs: 5_000 });
}

/**
 * The C2PA signing credentials a collection whose template asks for Content Credentials needs. Without them the node
 * refuses to start rather than mint images that silently lack what the collection promises.
 */
function signingCredentials(config: Config, collection: string): SigningCredentials {
  const { certPath, keyPath } = config.credentials;
  if (!certPath || !keyPath)
    throw new AigcError(
      'CONFIG_INVALID',
      `the template of collection ${collection} asks for C2PA Content Credentials (credentials.c2pa): set AIGC_C2PA_CERT and AIGC_C2PA_KEY to the operator's certificate chain and key (\`aigc credentials init\` makes development ones)`,
    );
  return loadSigningCredentials({ certPath, keyPath });
}
