import { createHash } from 'node:crypto';
import type { DropSettings } from '../template';

/** A drop's timing and prompts, as the template gives them (`order` may be left out: `sequence`). */
export type DropPlan = Pick<DropSettings, 'periodSeconds' | 'prompts' | 'startAt'> & { order?: DropSettings['order'] };

const periodMs = (plan: DropPlan) => plan.periodSeconds * 1000;
const startMs = (plan: DropPlan) => (plan.startAt ?? 0) * 1000;

/** The period `timeMs` falls in: 0 from `startAt`, negative before it. */
export function periodIndex(plan: DropPlan, timeMs: number): number {
  return Math.floor((timeMs - startMs(plan)) / periodMs(plan));
}

/** When period `period` starts, in Unix milliseconds. */
export function periodStartMs(plan: DropPlan, period: number): number {
  return startMs(plan) + period * periodMs(plan);
}

/**
 * The periods a firing due at `scheduledMs` and run at `nowMs` submits, oldest first: the one it was due in, unless
 * that lies more than one period back (all nodes were down: the periods they missed are skipped, not made up), and
 * the current one (a late firing, or a node started mid-period, still drops the piece of now). Submitting a period
 * twice is harmless: its mint id is derived from it.
 */
export function periodsToSubmit(plan: DropPlan, scheduledMs: number, nowMs: number): number[] {
  const current = periodIndex(plan, nowMs);
  const due = periodIndex(plan, scheduledMs);
  const periods = due >= current - 1 && due !== current ? [due, current] : [current];
  return periods.filter((p) => p >= 0).sort((a, b) => a - b);
}

/**
 * The prompt of period `period`. `sequence`: prompts[period mod n]. `shuffle`: each round of n periods is a permutation
 * of the list, drawn from a SHA-256 of `scope` (chain and collection) and the round, so every node picks the same.
 */
export function promptOf(plan: DropPlan, period: number, scope: string): string {
  const n = plan.prompts.length;
  const round = Math.floor(period / n);
  const position = period - round * n;
  if ((plan.order ?? 'sequence') === 'sequence') return plan.prompts[position];
  return plan.prompts[seededPermutation(n, `${scope}\n${round}`)[position]];
}

/** A Fisher-Yates permutation of 0…n-1 driven by SHA-256(seed, counter): the same for the same seed everywhere. */
function seededPermutation(n: number, seed: string): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let block = Buffer.alloc(0);
  let counter = 0;
  const next = (bound: number) => {
    // Rejection sampling keeps every index equally likely.
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      if (block.length < 4) block = createHash('sha256').update(`${seed}\n${counter++}`).digest();
      const value = block.readUInt32BE(0);
      block = block.subarray(4);
      if (value < limit) return value % bound;
    }
  };
  for (let i = n - 1; i > 0; i--) {
    const j = next(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * BullMQ's `offset` of an `every` scheduler whose firings fall on period starts: BullMQ aligns them to multiples of
 * `every` since the epoch plus the offset, and treats 0 as "no offset" (fire now, then every period from now).
 */
export function schedulerOffsetMs(plan: DropPlan): number {
  const p = periodMs(plan);
  return ((startMs(plan) % p) + p) % p || p;
}

/** The idempotency key of a period's piece: the same on every node, so it is paid once whoever fires it. */
export function dropIdempotencyKey(chainId: number, collection: string, period: number): string {
  return `drop:${chainId}:${collection.toLowerCase()}:${period}`;
}

/** The BullMQ job scheduler of a collection's drop: one id per collection, so every node upserts the same one. */
export function dropSchedulerId(chainId: number, collection: string): string {
  return `drop:${chainId}:${collection.toLowerCase()}`;
}
