import { randomBytes } from 'node:crypto';
import { type ConnectionOptions, type Job, type JobsOptions, Queue } from 'bullmq';
import { type Contract, getAddress } from 'ethers';
import type { Logger } from 'pino';
import { collectionReads } from '../chain/typed-reads';
import { errorMessage } from '../errors';
import type { Metrics } from '../metrics';
import { collectionKey, type DropJobData, type MintForJobData, QUEUE } from '../queue/jobs';
import type { SponsoredMints } from '../sponsored/feature';
import { mintIdOf } from '../sponsored/submit';
import type { CollectionTemplate, DropSettings } from '../template';
import { dropIdempotencyKey, dropSchedulerId, periodIndex, periodStartMs, periodsToSubmit, promptOf, schedulerOffsetMs } from './schedule';

/** A collection as the drops see it: those whose template has no `drop` get their schedule removed. */
export type DropCollection = { chainId: number; address: string; template: CollectionTemplate; contract: Contract };

export type DropParameters = {
  connection: ConnectionOptions;
  prefix: string;
  /** Every collection the node serves. */
  collections: DropCollection[];
  /** The sponsored-mint path `POST /v1/mints` uses: a drop is a sponsored mint with an idempotency key per period. */
  sponsored: Pick<SponsoredMints, 'submit'>;
  /** Attempts and first backoff of a firing that fails (an RPC or Redis error). */
  attempts: number;
  backoffMs: number;
  metrics: Metrics;
  logger: Logger;
};

/** What one period's submission found. */
export type DropOutcome = { period: number; mintId: string; result: 'submitted' | 'duplicate' | 'conflict' };

export type Drops = {
  /** The `drop` queue the schedulers fire into. */
  queue: Queue<DropJobData>;
  /** Some collection has a drop: a worker should run `processor`. */
  active: boolean;
  /** Turns a firing into this period's sponsored mint (and the scheduled one's, when it fired less than a period ago). */
  processor(job: Job<DropJobData>): Promise<DropOutcome[]>;
  /** Upserts each drop's job scheduler (removes those of collections without one) and fires each drop once now. */
  schedule(): Promise<void>;
  /** Closes the queue; the schedulers stay in Redis, for the other nodes and the next start. */
  close(): Promise<void>;
};

const DAY_S = 24 * 3600;

/** When a firing was due: a scheduler's job id ends in its due time (`repeat:<id>:<ms>`); any other job, when added. */
function scheduledAt(job: Job<DropJobData>): number {
  const due = /^repeat:.*:(\d+)$/.exec(job.id ?? '');
  return due ? Number(due[1]) : job.timestamp;
}

/**
 * Drops: for each collection whose template has a `drop`, a BullMQ job scheduler (the same id on every node) fires once
 * per period into the `drop` queue; the processor submits that period's piece as a sponsored mint through the same
 * function as `POST /v1/mints`, under idempotency key `drop:<chainId>:<collection>:<period>`. However often a period
 * fires (two nodes, a restart, a retry), its mint id is the same, so the chain leader pays it once.
 *
 * @example
 * const drops = createDrops({ connection, prefix, collections, sponsored, attempts: 5, backoffMs: 1000, metrics, logger });
 * const worker = new Worker(drops.queue.name, drops.processor, { connection, prefix });
 * await drops.schedule();
 */
export function createDrops(p: DropParameters): Drops {
  const { metrics, logger } = p;
  const byKey = new Map(p.collections.map((c) => [collectionKey(c.chainId, c.address), c]));
  // Names this node in the mints it submits (logs), and tells its submissions from another node's in the same millisecond.
  const keyId = `drop-${randomBytes(3).toString('hex')}`;
  const jobOptions: JobsOptions = {
    attempts: p.attempts,
    backoff: { type: 'exponential', delay: p.backoffMs },
    removeOnComplete: { age: 7 * DAY_S, count: 1_000 },
    removeOnFail: { age: 30 * DAY_S },
  };
  const queue = new Queue<DropJobData>(QUEUE.drop, { connection: p.connection, prefix: p.prefix, defaultJobOptions: jobOptions });
  // A Queue re-emits its connection's errors; with no listener, one during a stop ("Connection is closed") would crash.
  queue.on('error', (error) => logger.warn({ queue: QUEUE.drop, err: errorMessage(error) }, 'drop queue error'));
  const latest = new Map<string, number>();

  async function submitPeriod(c: DropCollection, plan: DropSettings, period: number, to: string): Promise<DropOutcome> {
    const labels = { chain: String(c.chainId), collection: c.address.toLowerCase() };
    const data: MintForJobData = {
      chainId: c.chainId,
      collection: c.address,
      to,
      prompt: promptOf(plan, period, collectionKey(c.chainId, c.address)),
      keyId,
      createdAt: new Date().toISOString(),
    };
    const mintId = mintIdOf({ scope: 'node', key: dropIdempotencyKey(c.chainId, c.address, period) });
    // The mint's record is what makes its id pay once: kept at least as long as its period can still fire.
    const keepSeconds = Math.max(30 * DAY_S, 3 * plan.periodSeconds);
    const { stored, replayed, same } = await p.sponsored.submit(data, { id: mintId, idempotent: true, keepSeconds });
    if (!stored) throw new Error(`drop ${mintId} of period ${period} was queued but cannot be read back; retrying`);
    const result = !replayed ? 'submitted' : same ? 'duplicate' : 'conflict';
    metrics.drops.inc({ ...labels, result });
    const key = collectionKey(c.chainId, c.address);
    if (period > (latest.get(key) ?? -1)) {
      latest.set(key, period);
      metrics.dropPeriod.set(labels, period);
    }
    const log = logger.child({ chainId: c.chainId, collection: c.address, period, mintId });
    const periodStart = new Date(periodStartMs(plan, period)).toISOString();
    if (result === 'submitted') log.info({ to, prompt: data.prompt, periodStart }, 'drop submitted');
    else if (result === 'duplicate') log.debug({ by: stored.data.keyId }, 'drop already submitted');
    // The template or the owner changed during the period: the piece already queued stands, nothing is paid twice.
    else
      log.warn(
        { to: stored.data.to, prompt: stored.data.prompt, now: { to, prompt: data.prompt } },
        'drop submitted earlier with another prompt or recipient; it stands',
      );
    return { period, mintId, result };
  }

  async function processor(job: Job<DropJobData>): Promise<DropOutcome[]> {
    const c = byKey.get(collectionKey(job.data.chainId, job.data.collection));
    const plan = c?.template.drop;
    if (!c || !plan) {
      logger.warn(
        { chainId: job.data.chainId, collection: job.data.collection },
        'drop fired for a collection this node serves without a drop; ignored',
      );
      return [];
    }
    const periods = periodsToSubmit(plan, scheduledAt(job), Date.now());
    if (!periods.length) return []; // before startAt
    const to = getAddress(plan.recipient ?? (await collectionReads(c.contract).owner()));
    const outcomes: DropOutcome[] = [];
    for (const period of periods) outcomes.push(await submitPeriod(c, plan, period, to));
    return outcomes;
  }

  async function schedule(): Promise<void> {
    for (const c of p.collections) {
      const id = dropSchedulerId(c.chainId, c.address);
      const plan = c.template.drop;
      const log = logger.child({ chainId: c.chainId, collection: c.address });
      if (!plan) {
        if (await queue.removeJobScheduler(id)) log.info({ scheduler: id }, 'drop schedule removed: the template has no drop');
        continue;
      }
      const every = plan.periodSeconds * 1000;
      const offset = schedulerOffsetMs(plan);
      const data: DropJobData = { chainId: c.chainId, collection: c.address };
      // Left alone when unchanged, so starting a node does not move a firing another node is about to take. BullMQ
      // keeps the old phase when only the offset changes: a changed schedule is replaced.
      const current = await queue.getJobScheduler(id);
      if (current?.every !== every || current.offset !== offset) {
        if (current) await queue.removeJobScheduler(id);
        await queue.upsertJobScheduler(id, { every, offset }, { name: 'drop', data, opts: jobOptions });
      }
      // This period's piece now: a node starting mid-period (the first, or after all were down) does not wait a period.
      await queue.add('drop-now', data);
      const now = Date.now();
      log.info(
        {
          scheduler: id,
          periodSeconds: plan.periodSeconds,
          prompts: plan.prompts.length,
          order: plan.order,
          recipient: plan.recipient ?? 'the collection owner',
          period: periodIndex(plan, now),
          nextPeriodStart: new Date(periodStartMs(plan, periodIndex(plan, now) + 1)).toISOString(),
        },
        'drop scheduled',
      );
    }
  }

  return {
    queue,
    active: p.collections.some((c) => c.template.drop),
    processor,
    schedule,
    close: () => queue.close(),
  };
}
