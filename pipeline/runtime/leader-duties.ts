import { type ConnectionOptions, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { subscribeHeads } from '../chain/heads';
import { startListener } from '../chain/listener';
import { reconcileFromMark } from '../chain/reconcile';
import type { Config } from '../config';
import { errorMessage } from '../errors';
import type { Metrics } from '../metrics';
import type { ChainWriteJobData, MintForJobData, MintForResult } from '../queue/jobs';
import type { SponsoredMints } from '../sponsored/feature';
import type { Intake } from './intake';
import type { ChainRuntime, CollectionRuntime } from './types';
import { observed, STALL } from './workers';

export type LeaderDutiesParameters = {
  config: Config;
  redis: Redis;
  connection: ConnectionOptions;
  prefix: string;
  metrics: Metrics;
  logger: Logger;
  intake: Intake;
  sponsored: Pick<SponsoredMints, 'mintForQueues' | 'processor'>;
  /** The collection a job belongs to (jobs name their chain id and address). */
  collectionOf(data: { chainId: number; collection: string }): CollectionRuntime;
};

/**
 * What the leader of a chain does while it holds that chain's lease, and stops doing when it loses it: the chain's
 * single writer (the `fulfill` and `mint-for` workers, through the fenced serial sender), a listener per
 * collection, and reconciliation from the chain (the durable log).
 *
 * @example
 * const duties = createLeaderDuties({ config, redis, connection: redis, prefix, metrics, logger, intake, sponsored, collectionOf });
 * startLeadership({ …, onElected: () => duties.onElected(chain), onDeposed: () => duties.onDeposed(chain) });
 */
export function createLeaderDuties({
  config,
  redis,
  connection,
  prefix,
  metrics,
  logger,
  intake,
  sponsored,
  collectionOf,
}: LeaderDutiesParameters) {
  /** Reads open requests from the collection's low-water mark (the whole history, paced, only without one). */
  async function reconcile(chain: ChainRuntime, c: CollectionRuntime) {
    const settings = c.target.chain;
    const r = await reconcileFromMark({
      provider: chain.provider,
      redis,
      markKey: `${prefix}:reconcile:${chain.chainId}:${c.address.toLowerCase()}`,
      address: c.address,
      startBlock: settings.startBlock,
      confirmations: settings.confirmations,
      maxBlockRange: settings.maxBlockRange,
      maxLogsPerSecond: settings.maxLogsPerSecond,
    });
    metrics.reconcileRpcCalls.inc({ chain: String(chain.chainId) }, r.rpcCalls);
    metrics.reconcileMarkLag.set({ chain: String(chain.chainId), collection: c.address.toLowerCase() }, r.latestBlock - r.mark + 1);
    await intake.requeueOpen(c, chain.fulfillQueue, r.open);
    const summary = {
      open: r.open.length,
      fromBlock: r.fromBlock,
      mark: r.mark,
      safeHead: r.safeHead,
      fullScan: r.fullScan,
      rpcCalls: r.rpcCalls,
    };
    logger.info({ chainId: chain.chainId, collection: c.address, ...summary }, 'reconciled open requests from chain');
    return summary;
  }

  /** Becomes this chain's writer, listens to its collections and reconciles them. */
  async function onElected(chain: ChainRuntime): Promise<void> {
    metrics.isLeader.set({ chain: String(chain.chainId) }, 1);
    logger.info({ chainId: chain.chainId }, 'leader: elected');
    chain.fulfillWorker = new Worker<ChainWriteJobData>(
      chain.fulfillQueue.name,
      observed(metrics, 'fulfill', (job) => collectionOf(job.data).fulfill(job)),
      { connection, prefix, concurrency: config.fulfill.batchSize * chain.collections.length, ...STALL },
    );
    chain.fulfillWorker.on('error', (error) => logger.error({ queue: chain.fulfillQueue.name, err: errorMessage(error) }, 'worker error'));
    // Sponsored mints are sent by the same serial writer as fulfilment.
    const mintForQueue = sponsored.mintForQueues.get(chain.chainId)!;
    chain.mintForWorker = new Worker<MintForJobData, MintForResult>(
      mintForQueue.name,
      observed(metrics, 'mint-for', sponsored.processor(chain.chainId)),
      { connection, prefix, concurrency: 2, ...STALL },
    );
    chain.mintForWorker.on('error', (error) => logger.error({ queue: mintForQueue.name, err: errorMessage(error) }, 'worker error'));
    // A lease may end at once: its workers then close, which must not meet a connection still starting (see node.ts).
    await Promise.all([chain.fulfillWorker.waitUntilReady(), chain.mintForWorker.waitUntilReady()]);
    for (const c of chain.collections) {
      const settings = c.target.chain;
      // No cursor (first start, wiped Redis): listen from the confirmed head; what came before is the reconcile's.
      if ((await redis.get(c.cursorKey)) === null) {
        const safeHead = (await chain.provider.getBlockNumber()) - settings.confirmations;
        await redis.set(c.cursorKey, String(Math.max(safeHead, settings.startBlock - 1)));
      }
      const listener = startListener({
        provider: chain.provider,
        redis,
        cursorKey: c.cursorKey,
        collection: c.address,
        confirmations: settings.confirmations,
        pollIntervalMs: settings.pollIntervalMs,
        maxBlockRange: settings.maxBlockRange,
        startBlock: settings.startBlock,
        logger: logger.child({ chainId: chain.chainId, collection: c.address }),
        onRequests: (requests) => intake.enqueue(c, requests),
      });
      c.listener = listener;
      // New blocks wake the listener at once; its poll timer stays the source of truth.
      if (settings.wsUrl)
        c.heads = subscribeHeads({
          url: settings.wsUrl,
          onHead: () => c.listener?.wake(),
          logger: logger.child({ chainId: chain.chainId }),
        });
      // The chain is the durable log: enqueue every open request (job ids make this idempotent) now, and then
      // periodically, so work lost in ways the listener cannot see (a reorged-out fulfilment) is found again. Not
      // awaited: a paced full scan of a long history takes minutes, and the listener need not wait for it.
      const again = (delayMs: number) => {
        c.reconcileTimer = setTimeout(() => {
          void reconcile(chain, c)
            .catch((error) => logger.warn({ collection: c.address, err: errorMessage(error) }, 'reconcile failed'))
            // Only while this term's listener runs: a reconcile that outlived its term must not start a second loop.
            .finally(() => c.listener === listener && again(settings.reconcileIntervalMs));
        }, delayMs);
      };
      again(0);
    }
  }

  /** Stops everything `onElected` started, before another node takes over. */
  async function onDeposed(chain: ChainRuntime): Promise<void> {
    metrics.isLeader.set({ chain: String(chain.chainId) }, 0);
    for (const c of chain.collections) {
      clearTimeout(c.reconcileTimer);
      c.heads?.stop();
      c.heads = undefined;
      await c.listener?.stop();
      c.listener = undefined;
    }
    await chain.fulfillWorker?.close();
    await chain.mintForWorker?.close();
    chain.fulfillWorker = undefined;
    chain.mintForWorker = undefined;
    logger.info({ chainId: chain.chainId }, 'no longer leader');
  }

  return { onElected, onDeposed, reconcile };
}
