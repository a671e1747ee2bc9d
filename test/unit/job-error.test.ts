import { UnrecoverableError } from 'bullmq';
import { AigcError } from '../../pipeline/errors';
import { FinalJobError, jobErrorCode, toJobError } from '../../pipeline/queue/job-error';

describe('job errors', () => {
  it('a refusal that will not change becomes a final job error that keeps its code', () => {
    const error = toJobError(new AigcError('CONTENT_REJECTED', 'the prompt was refused', { retryable: false }));
    expect(error).toBeInstanceOf(FinalJobError);
    expect(error).toBeInstanceOf(UnrecoverableError); // BullMQ stops retrying by this class
    expect(jobErrorCode(error)).toBe('CONTENT_REJECTED');
    expect((error as Error).message).toBe('the prompt was refused');
  });

  it('a retryable failure stays as it is, and unknown errors have no code', () => {
    const retryable = new AigcError('ARWEAVE_FAILED', 'gateway down', { retryable: true });
    expect(toJobError(retryable)).toBe(retryable);
    expect(jobErrorCode(retryable)).toBe('ARWEAVE_FAILED');
    expect(jobErrorCode(new Error('boom'))).toBeUndefined();
  });
});
