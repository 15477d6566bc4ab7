// Reconciling an execution that stopped without ending its job: the job ends with the status the way the
// execution stopped implies, and a job that already ended is never touched — however often the event comes.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type EndedExecution,
  EXECUTION_ABORTED_MESSAGE,
  EXECUTION_FAILED_MESSAGE,
  EXECUTION_TIMED_OUT_MESSAGE,
  type ReconcileExecutionDeps,
  reconcileExecution,
} from '#domain/reconcile-execution';
import { TERMINAL_STATUSES } from '#domain/video-job';
import { fixedClock, InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

const JOB = 'job-1';
const REQUEST_ID = '2c7f59ea-13f1-402c-9353-915a2b5a2124';

let store: InMemoryJobStore;
let deps: ReconcileExecutionDeps;

beforeEach(() => {
  store = new InMemoryJobStore();
  deps = { store, clock: fixedClock() };
  store.put(pendingJob(JOB, { status: 'PROCESSING', segmindRequestId: REQUEST_ID, pollCount: 3 }));
});

const reconcile = (execution: Omit<EndedExecution, 'jobId'>) =>
  reconcileExecution({ jobId: JOB, ...execution }, deps);

describe('an execution that stopped while its job was still open', () => {
  it('TIMED_OUT (the execution time limit) ends the job TIMED_OUT', async () => {
    const outcome = await reconcile({ status: 'TIMED_OUT' });
    expect(outcome).toEqual({
      kind: 'reconciled',
      status: 'TIMED_OUT',
      errorCode: 'States.Timeout',
      errorMessage: EXECUTION_TIMED_OUT_MESSAGE,
    });
    expect(store.peek(JOB)).toMatchObject({
      status: 'TIMED_OUT',
      errorCode: 'States.Timeout',
      errorMessage: EXECUTION_TIMED_OUT_MESSAGE,
      failedAt: deps.clock.now().toISOString(),
      // What the record knew stays.
      segmindRequestId: REQUEST_ID,
      pollCount: 3,
    });
  });

  it('ABORTED (a StopExecution from outside) ends the job CANCELLED, like a cancel through the API', async () => {
    const outcome = await reconcile({ status: 'ABORTED' });
    expect(outcome).toEqual({
      kind: 'reconciled',
      status: 'CANCELLED',
      errorCode: 'JobCancelledError',
      errorMessage: EXECUTION_ABORTED_MESSAGE,
    });
    expect(store.peek(JOB)).toMatchObject({
      status: 'CANCELLED',
      cancelledAt: deps.clock.now().toISOString(),
    });
  });

  it("ABORTED with StopExecution's own cause keeps that cause, without a stack trace", async () => {
    const outcome = await reconcile({
      status: 'ABORTED',
      error: 'Operator',
      cause: 'Stopped by the on-call engineer\n    at stop (/opt/tool.js:1:1)',
    });
    expect(outcome).toMatchObject({ status: 'CANCELLED', errorMessage: 'Stopped by the on-call engineer' });
  });

  it("FAILED ends the job FAILED with the execution's error and cause", async () => {
    const outcome = await reconcile({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: "The JSONPath '$.video.bytes' could not be found in the input",
    });
    expect(outcome).toEqual({
      kind: 'reconciled',
      status: 'FAILED',
      errorCode: 'States.Runtime',
      errorMessage: "The JSONPath '$.video.bytes' could not be found in the input",
    });
    expect(store.peek(JOB)).toMatchObject({ status: 'FAILED', errorCode: 'States.Runtime' });
  });

  it('FAILED after RecordFailure itself broke: the record says what RecordFailure would have said', async () => {
    // FailureNotRecorded fails the execution with the job's own error and its Lambda-shaped cause.
    const cause = JSON.stringify({
      errorType: 'SegmindNotFoundError',
      errorMessage: `Request ${REQUEST_ID} not found`,
      trace: [],
    });
    const outcome = await reconcile({ status: 'FAILED', error: 'SegmindNotFoundError', cause });
    expect(outcome).toMatchObject({
      kind: 'reconciled',
      status: 'EXPIRED',
      errorCode: 'SegmindNotFoundError',
    });
    expect(store.peek(JOB)?.errorMessage).toContain(REQUEST_ID);
  });

  it('FAILED without any error or cause still ends the job, with a message that says so', async () => {
    const outcome = await reconcile({ status: 'FAILED' });
    expect(outcome).toEqual({
      kind: 'reconciled',
      status: 'FAILED',
      errorCode: 'UnknownError',
      errorMessage: EXECUTION_FAILED_MESSAGE,
    });
  });

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'] as const)(
    'leaves a STORING job (%s) to the sweeper: its video is paid for and may be in the bucket',
    async (executionStatus) => {
      store.put(pendingJob(JOB, { status: 'STORING' }));
      const outcome = await reconcile({ status: executionStatus });
      expect(outcome).toEqual({ kind: 'left-for-sweeper', status: 'STORING' });
      expect(store.peek(JOB)?.status).toBe('STORING');
    },
  );

  it.each(['PENDING', 'QUEUED', 'PROCESSING'] as const)('ends a job left %s too', async (status) => {
    store.put(pendingJob(JOB, { status }));
    const outcome = await reconcile({ status: 'TIMED_OUT' });
    expect(outcome.kind).toBe('reconciled');
    expect(store.peek(JOB)?.status).toBe('TIMED_OUT');
  });
});

describe('a job that already ended', () => {
  it.each(TERMINAL_STATUSES)('stays %s, untouched, whatever the execution status', async (status) => {
    const job = pendingJob(JOB, { status, errorCode: 'Original', errorMessage: 'as it ended' });
    store.put(job);
    for (const executionStatus of ['FAILED', 'TIMED_OUT', 'ABORTED'] as const) {
      const outcome = await reconcile({ status: executionStatus, error: 'X', cause: 'late' });
      expect(outcome).toEqual({ kind: 'already-ended', status });
    }
    expect(store.peek(JOB)).toEqual(job);
    expect(store.writes).toEqual([]);
  });

  it('is reported as it ended when it ended between the read and the write', async () => {
    const racing: ReconcileExecutionDeps = {
      ...deps,
      store: {
        get: async (jobId) => {
          const before = await store.get(jobId);
          store.put(pendingJob(JOB, { status: 'COMPLETED' }));
          return before;
        },
        recordFailure: (jobId, failure, at) => store.recordFailure(jobId, failure, at),
        cancel: (jobId, at, reason) => store.cancel(jobId, at, reason),
      },
    };
    const outcome = await reconcileExecution({ jobId: JOB, status: 'TIMED_OUT' }, racing);
    expect(outcome).toEqual({ kind: 'already-ended', status: 'COMPLETED' });
    expect(store.peek(JOB)?.status).toBe('COMPLETED');
  });
});

describe('delivered more than once (EventBridge delivers at least once)', () => {
  it('writes once, and the second delivery finds the job ended', async () => {
    const first = await reconcile({ status: 'FAILED', error: 'States.Runtime', cause: 'boom' });
    const afterFirst = store.peek(JOB);
    const second = await reconcile({ status: 'FAILED', error: 'States.Runtime', cause: 'boom' });
    expect(first.kind).toBe('reconciled');
    expect(second).toEqual({ kind: 'already-ended', status: 'FAILED' });
    expect(store.peek(JOB)).toEqual(afterFirst);
    expect(store.writes).toEqual([`recordFailure:${JOB}`]);
  });
});

it('writes nothing for an execution whose job has no record', async () => {
  const outcome = await reconcileExecution({ jobId: 'nobody', status: 'FAILED', error: 'X' }, deps);
  expect(outcome).toEqual({ kind: 'missing' });
  expect(store.peek('nobody')).toBeUndefined();
  expect(store.writes).toEqual([]);
});
