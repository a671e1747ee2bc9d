import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { MintForJobData, MintForResult } from '../queue/jobs';
import { findMintJob } from './status';

/**
 * The public id of a sponsored mint: random, or derived from an idempotency key within a scope (the SHA-256 of the
 * API key that asked, or `node` for the node's own drops), so the same key in the same scope is the same mint.
 */
export function mintIdOf(idempotency?: { scope: string; key: string }): string {
  const bytes = idempotency ? createHash('sha256').update(`${idempotency.scope}\n${idempotency.key}`).digest() : randomBytes(16);
  return `m-${bytes.toString('hex').slice(0, 32)}`;
}

export type SubmittedMint = {
  /** The mint as stored: this call's, or the one an earlier call with the same id queued; undefined if unreadable. */
  stored?: Job<MintForJobData, MintForResult>;
  /** An earlier call had queued this id (so nothing new was queued, nothing more will be paid). */
  replayed: boolean;
  /** The stored mint is for the same chain, collection, recipient and prompt as this call's. */
  same: boolean;
};

/**
 * Queues sponsored mint `id` on its chain's `mint-for` queue unless a mint with that id exists on any chain. BullMQ
 * adds a job id once, and the leader pays a job once, so one id is one payment. The one way `POST /v1/mints` and the
 * drops queue a mint.
 *
 * @example
 * const { stored, replayed, same } = await submitMint(mintForQueues, data, { id: mintIdOf({ scope, key }), idempotent: true });
 */
export async function submitMint(
  mintForQueues: Map<number, Queue<MintForJobData, MintForResult>>,
  data: MintForJobData,
  {
    id,
    idempotent,
    keepSeconds,
  }: {
    id: string;
    /** The id comes from an idempotency key, so an earlier mint may hold it (a random id skips that lookup). */
    idempotent: boolean;
    /** How long the finished mint is kept (its id pays once only while it is); default the queue's 30 days. */
    keepSeconds?: number;
  },
): Promise<SubmittedMint> {
  const queue = mintForQueues.get(data.chainId);
  if (!queue) throw new Error(`no mint-for queue for chain ${data.chainId}`);
  // Looked up on every chain: an id re-used for a collection on another chain is the existing mint, not a second one.
  const existing = idempotent ? await findMintJob([...mintForQueues.values()], id) : undefined;
  const keep = keepSeconds === undefined ? {} : { removeOnComplete: { age: keepSeconds }, removeOnFail: { age: keepSeconds } };
  // BullMQ adds a job id once and says nothing to the others: the id of this call in the stored mint tells which
  // call queued it. Time and caller cannot: two calls of one key, handled together, share both.
  const submission = randomUUID();
  if (!existing) await queue.add('mint-for', { ...data, submission }, { jobId: id, ...keep });
  const stored = existing ?? ((await queue.getJob(id)) as Job<MintForJobData, MintForResult> | undefined);
  const same =
    stored !== undefined &&
    (['chainId', 'to', 'prompt'] as const).every((k) => stored.data[k] === data[k]) &&
    stored.data.collection.toLowerCase() === data.collection.toLowerCase();
  // Another call's mint: an earlier one, or one that raced this call to the add and won.
  const replayed = stored !== undefined && stored.data.submission !== submission;
  return { stored, replayed, same };
}
