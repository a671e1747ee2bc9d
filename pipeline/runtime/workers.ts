import { DelayedError, type Job } from 'bullmq';
import type { ErrorCode } from '../errors';
import type { Metrics } from '../metrics';
import { jobErrorCode } from '../queue/job-error';
import { REJECT_REASON } from '../queue/jobs';

/**
 * Jobs of a process that died are taken back after `lockDuration` (a live worker renews its locks every half of
 * it). A crash-looping host must not fail work for good, so a job may stall many times.
 */
export const STALL = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 10 };

/** Error codes that mean the render itself failed (so the request is refunded once attempts run out). */
export const RENDER_FAILURES = new Set<ErrorCode>([
  'GATEWAY_FAILED',
  'TIMEOUT',
  'INVALID_REQUEST',
  'CONTENT_REJECTED',
  'BACKEND_FAILED',
  'BACKEND_BUSY',
  'BACKEND_TIMEOUT',
  'BACKEND_UNAVAILABLE',
]);

/** The `reason` code a refused or failed render is rejected on chain with. */
export function rejectReasonOf(code: ErrorCode | undefined): number {
  if (code === 'CONTENT_REJECTED') return REJECT_REASON.CONTENT_REJECTED;
  if (code === 'INVALID_REQUEST') return REJECT_REASON.INVALID_PROMPT;
  return REJECT_REASON.GENERATION_FAILED;
}

/** Wraps a stage processor with its latency histogram and failure counter. */
export function observed<T, R>(metrics: Metrics, stage: string, process: (job: Job<T>, token?: string) => Promise<R>) {
  return async (job: Job<T>, token?: string): Promise<R> => {
    const end = metrics.stageSeconds.startTimer({ stage });
    try {
      return await process(job, token);
    } catch (error) {
      if (error instanceof DelayedError) throw error; // waiting as the gateway asked; not a failure
      metrics.failures.inc({ stage, reason: jobErrorCode(error) ?? (error as Error).name ?? 'Error' });
      throw error;
    } finally {
      end();
    }
  };
}
