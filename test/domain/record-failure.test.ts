// RecordFailure: every failed path ends with one terminal status on the record — never overwriting one
// that is already terminal — and never throws over a failure it cannot read.

import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { classifyFailure } from '#domain/failure';
import { type RecordFailureDeps, recordFailure } from '#domain/record-failure';
import { TERMINAL_STATUSES } from '#domain/video-job';
import { fixedClock, InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

const JOB = 'job-1';

let store: InMemoryJobStore;
let deps: RecordFailureDeps;

beforeEach(() => {
  store = new InMemoryJobStore();
  deps = { store, clock: fixedClock() };
  store.put(
    pendingJob(JOB, { status: 'PROCESSING', segmindRequestId: '2c7f59ea-13f1-402c-9353-915a2b5a2124' }),
  );
});

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at pollJob (/var/task/index.mjs:1:1)'],
  });

describe('recordFailure', () => {
  it("ends the job FAILED with the Lambda error's message, without its stack trace", async () => {
    const outcome = await recordFailure(
      {
        jobId: JOB,
        failure: {
          Error: 'SegmindJobFailedError',
          Cause: lambdaCause('SegmindJobFailedError', 'Segmind reported the job as FAILED: blocked'),
        },
      },
      deps,
    );
    expect(outcome).toEqual({
      status: 'FAILED',
      errorCode: 'SegmindJobFailedError',
      errorMessage: 'Segmind reported the job as FAILED: blocked',
    });
    expect(store.peek(JOB)).toMatchObject({ ...outcome, failedAt: deps.clock.now().toISOString() });
    expect(store.peek(JOB)?.errorMessage).not.toContain('/var/task');
  });

  it.each([
    ['JobDeadlineExceededError', 'TIMED_OUT'],
    ['States.Timeout', 'TIMED_OUT'],
    ['SegmindNotFoundError', 'EXPIRED'],
    ['SubmitOutcomeUnknownError', 'FAILED'],
  ])('maps %s to %s', async (error, status) => {
    const outcome = await recordFailure({ jobId: JOB, failure: { Error: error, Cause: 'detail' } }, deps);
    expect(outcome.status).toBe(status);
    expect(store.peek(JOB)?.status).toBe(status);
  });

  it('names the Segmind request of an expired job, from the record', async () => {
    const outcome = await recordFailure({ jobId: JOB, failure: { Error: 'SegmindNotFoundError' } }, deps);
    expect(outcome.errorMessage).toContain('2c7f59ea-13f1-402c-9353-915a2b5a2124');
  });

  it('leaves a cancelled job CANCELLED and says so', async () => {
    store.put(
      pendingJob(JOB, {
        status: 'CANCELLED',
        errorCode: 'JobCancelledError',
        errorMessage: 'Cancelled through the API',
      }),
    );
    const outcome = await recordFailure(
      { jobId: JOB, failure: { Error: 'SegmindTimeoutError', Cause: 'late' } },
      deps,
    );
    expect(outcome).toEqual({
      status: 'CANCELLED',
      errorCode: 'JobCancelledError',
      errorMessage: 'Cancelled through the API',
    });
    expect(store.peek(JOB)?.status).toBe('CANCELLED');
    expect(store.writes).toEqual([]);
  });

  it('reports a job cancelled between the read and the write as CANCELLED', async () => {
    const racing: RecordFailureDeps = {
      ...deps,
      classify: (failure, context) => {
        store.put(
          pendingJob(JOB, {
            status: 'CANCELLED',
            errorCode: 'JobCancelledError',
            errorMessage: 'by the owner',
          }),
        );
        return classifyFailure(failure, context);
      },
    };
    const outcome = await recordFailure(
      { jobId: JOB, failure: { Error: 'SegmindUnavailableError' } },
      racing,
    );
    expect(outcome.status).toBe('CANCELLED');
  });

  it('answers without writing when there is no record', async () => {
    const outcome = await recordFailure(
      { jobId: 'nobody', failure: { Error: 'JobStateError', Cause: 'no record' } },
      deps,
    );
    expect(outcome).toMatchObject({ status: 'FAILED', errorCode: 'JobStateError' });
    expect(store.peek('nobody')).toBeUndefined();
  });

  it('falls back to FAILED if the classifier itself breaks', async () => {
    const outcome = await recordFailure(
      { jobId: JOB, failure: { Error: 'Weird', Cause: 'why' } },
      {
        ...deps,
        classify: () => {
          throw new Error('bug');
        },
      },
    );
    expect(outcome).toEqual({ status: 'FAILED', errorCode: 'Weird', errorMessage: 'why' });
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    'records an error named like an Object.prototype member (%s) as FAILED',
    async (name) => {
      const outcome = await recordFailure({ jobId: JOB, failure: { Error: name, Cause: 'odd' } }, deps);
      expect(outcome).toMatchObject({ status: 'FAILED', errorCode: name });
      expect(store.peek(JOB)?.status).toBe('FAILED');
    },
  );

  describe('the poll count', () => {
    it("writes the execution's poll count with the failure", async () => {
      await recordFailure(
        { jobId: JOB, failure: { Error: 'JobDeadlineExceededError' }, pollCount: 17 },
        deps,
      );
      expect(store.peek(JOB)).toMatchObject({ status: 'TIMED_OUT', pollCount: 17 });
    });

    it("keeps the record's count when a poll wrote it and then failed before reaching the state", async () => {
      store.put(pendingJob(JOB, { status: 'PROCESSING', pollCount: 9 }));
      await recordFailure({ jobId: JOB, failure: { Error: 'SegmindAuthError' }, pollCount: 8 }, deps);
      expect(store.peek(JOB)?.pollCount).toBe(9);
    });

    it('leaves the count alone when the execution never polled (Submit failed)', async () => {
      store.put(pendingJob(JOB, { status: 'PENDING' }));
      await recordFailure({ jobId: JOB, failure: { Error: 'SegmindAuthError' } }, deps);
      expect(store.peek(JOB)).toMatchObject({ status: 'FAILED' });
      expect(store.peek(JOB)).not.toHaveProperty('pollCount');
    });

    it.each([-1, 1.5, Number.NaN])('ignores a poll count that is not a count (%s)', async (pollCount) => {
      store.put(pendingJob(JOB, { status: 'QUEUED' }));
      await recordFailure({ jobId: JOB, failure: { Error: 'X' }, pollCount }, deps);
      expect(store.peek(JOB)).toMatchObject({ status: 'FAILED' });
      expect(store.peek(JOB)).not.toHaveProperty('pollCount');
    });
  });

  it('never throws over a failure it cannot read, and always ends the job', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (failure) => {
        store.put(pendingJob(JOB, { status: 'QUEUED' }));
        const outcome = await recordFailure({ jobId: JOB, failure }, deps);
        expect(TERMINAL_STATUSES).toContain(outcome.status);
        expect(outcome.errorCode.length).toBeGreaterThan(0);
        expect(store.peek(JOB)?.status).toBe(outcome.status);
      }),
      { numRuns: 500 },
    );
  });
});
