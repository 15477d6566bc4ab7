// The job store's contract, run against the DynamoDB adapter on a real (local) DynamoDB and against the
// in-memory fake the use-case tests rely on — so the fake cannot drift from what DynamoDB really does.

import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJobStore } from '#adapters/job-store';
import type { JobCanceller } from '#domain/cancel-job';
import { JobCancelledError, JobStateError } from '#domain/errors';
import type { JobStore } from '#domain/job-store';
import type { SubmittedJob } from '#domain/video-job';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

const T0 = new Date('2030-01-01T00:00:05.000Z');
const T1 = new Date('2030-01-01T00:00:06.000Z');
const T2 = new Date('2030-01-01T00:00:50.000Z');

const SUBMITTED: SubmittedJob = {
  requestId: '2c7f59ea-13f1-402c-9353-915a2b5a2124',
  statusUrl: 'https://api.segmind.com/v2/requests/2c7f59ea-13f1-402c-9353-915a2b5a2124/status',
  responseUrl: 'https://api.segmind.com/v2/requests/2c7f59ea-13f1-402c-9353-915a2b5a2124',
  submittedAt: T1.toISOString(),
};

let table: JobsTable;
beforeAll(async () => {
  table = await startJobsTable();
});
afterAll(async () => {
  await table?.close();
});

let counter = 0;
const newJobId = (): string => `job-${Date.now().toString(36)}-${++counter}`;

const stores: [string, () => JobStore][] = [
  ['DynamoDB (dynalite)', () => createJobStore({ client: table.client, tableName: table.tableName })],
  ['in-memory fake', () => new InMemoryJobStore()],
];

describe.each(stores)('job store contract: %s', (_name, makeStore) => {
  let store: JobStore;
  let jobId: string;
  beforeEach(async () => {
    store = makeStore();
    jobId = newJobId();
  });

  const createPending = async () => (await store.create(pendingJob(jobId))).job;
  const submitted = async () => {
    await createPending();
    await store.claimSubmit(jobId, T0);
    return store.recordSubmitted(jobId, SUBMITTED, T1);
  };

  describe('create', () => {
    it('creates a PENDING record, and a duplicate start returns the existing one untouched', async () => {
      const first = await store.create(pendingJob(jobId, { source: 'api' }));
      expect(first.created).toBe(true);

      const again = await store.create(
        pendingJob(jobId, { source: 'upload', request: { ...first.job.request, prompt: 'other' } }),
      );
      expect(again.created).toBe(false);
      expect(again.job).toMatchObject({ jobId, status: 'PENDING', source: 'api' });
      expect(again.job.request.prompt).toBe(first.job.request.prompt);
    });

    it('reads nothing for an unknown job', async () => {
      expect(await store.get(jobId)).toBeUndefined();
    });
  });

  describe('claimSubmit', () => {
    it('claims a fresh job once: IN_FLIGHT, one attempt counted', async () => {
      await createPending();
      const claim = await store.claimSubmit(jobId, T0);
      expect(claim.kind).toBe('claimed');
      expect(await store.get(jobId)).toMatchObject({
        submitState: 'IN_FLIGHT',
        submitAttempts: 1,
        status: 'PENDING',
      });
    });

    it('refuses a second claim while the first POST is in flight', async () => {
      await createPending();
      await store.claimSubmit(jobId, T0);
      const second = await store.claimSubmit(jobId, T1);
      expect(second).toMatchObject({ kind: 'in-doubt', submitState: 'IN_FLIGHT' });
      expect((await store.get(jobId))?.submitAttempts).toBe(1);
    });

    it('returns the recorded request instead of a claim once Segmind accepted the job', async () => {
      await submitted();
      const claim = await store.claimSubmit(jobId, T2);
      expect(claim).toMatchObject({ kind: 'already-submitted', submitted: SUBMITTED });
    });

    it('allows a new claim after a POST that provably created nothing, and counts it', async () => {
      await createPending();
      await store.claimSubmit(jobId, T0);
      expect(
        await store.recordSubmitNotCreated(
          jobId,
          { errorCode: 'SegmindUnavailableError', errorMessage: '502' },
          T1,
        ),
      ).toBe(true);
      const claim = await store.claimSubmit(jobId, T2);
      expect(claim.kind).toBe('claimed');
      expect(await store.get(jobId)).toMatchObject({ submitState: 'IN_FLIGHT', submitAttempts: 2 });
    });

    it('never allows a claim after an ambiguous POST', async () => {
      await createPending();
      await store.claimSubmit(jobId, T0);
      expect(
        await store.recordSubmitUnknown(
          jobId,
          { errorCode: 'SegmindTimeoutError', errorMessage: 'read timeout' },
          T1,
        ),
      ).toBe(true);
      expect(await store.claimSubmit(jobId, T2)).toMatchObject({ kind: 'in-doubt', submitState: 'UNKNOWN' });
    });

    it('reports a missing record and a job that ended before it was submitted', async () => {
      expect(await store.claimSubmit(jobId, T0)).toEqual({ kind: 'missing' });
      await store.create(pendingJob(jobId, { status: 'CANCELLED' }));
      expect(await store.claimSubmit(jobId, T0)).toMatchObject({ kind: 'terminal', status: 'CANCELLED' });
    });

    it('lets exactly one of several concurrent callers claim the job', async () => {
      await createPending();
      const claims = await Promise.all(Array.from({ length: 6 }, () => store.claimSubmit(jobId, T0)));
      expect(claims.filter((claim) => claim.kind === 'claimed')).toHaveLength(1);
      expect(claims.filter((claim) => claim.kind === 'in-doubt')).toHaveLength(5);
      expect((await store.get(jobId))?.submitAttempts).toBe(1);
    });
  });

  describe('recordSubmitted', () => {
    it('stores the request id, moves the job to QUEUED and clears an earlier submit error', async () => {
      await createPending();
      await store.claimSubmit(jobId, T0);
      await store.recordSubmitNotCreated(
        jobId,
        { errorCode: 'SegmindUnavailableError', errorMessage: '502' },
        T0,
      );
      await store.claimSubmit(jobId, T0);
      const job = await store.recordSubmitted(jobId, SUBMITTED, T1);
      expect(job).toMatchObject({
        status: 'QUEUED',
        submitState: 'ACCEPTED',
        segmindRequestId: SUBMITTED.requestId,
        statusUrl: SUBMITTED.statusUrl,
        responseUrl: SUBMITTED.responseUrl,
        submittedAt: SUBMITTED.submittedAt,
        updatedAt: T1.toISOString(),
      });
      expect(job.errorCode).toBeUndefined();
      expect(job.errorMessage).toBeUndefined();
    });

    it('is idempotent for the same request id', async () => {
      await submitted();
      const again = await store.recordSubmitted(jobId, SUBMITTED, T2);
      expect(again).toMatchObject({
        status: 'QUEUED',
        segmindRequestId: SUBMITTED.requestId,
        submittedAt: SUBMITTED.submittedAt,
      });
    });

    it('keeps the request id of a job cancelled during the POST, without reviving it', async () => {
      await createPending();
      await store.claimSubmit(jobId, T0);
      await store.recordFailure(
        jobId,
        { status: 'CANCELLED', errorCode: 'JobCancelledError', errorMessage: 'cancelled' },
        T0,
      );
      const job = await store.recordSubmitted(jobId, SUBMITTED, T1);
      expect(job).toMatchObject({
        status: 'CANCELLED',
        segmindRequestId: SUBMITTED.requestId,
        errorCode: 'JobCancelledError',
      });
    });

    it('refuses to replace a recorded request id with another one', async () => {
      await submitted();
      await expect(
        store.recordSubmitted(jobId, { ...SUBMITTED, requestId: 'another-id' }, T2),
      ).rejects.toBeInstanceOf(JobStateError);
      expect((await store.get(jobId))?.segmindRequestId).toBe(SUBMITTED.requestId);
    });
  });

  describe('submit bookkeeping after a failed POST', () => {
    it('records NOT_CREATED and UNKNOWN only for the job still holding an in-flight claim', async () => {
      await submitted();
      expect(await store.recordSubmitNotCreated(jobId, { errorCode: 'X', errorMessage: 'x' }, T2)).toBe(
        false,
      );
      expect(await store.recordSubmitUnknown(jobId, { errorCode: 'X', errorMessage: 'x' }, T2)).toBe(false);
      expect(await store.get(jobId)).toMatchObject({ submitState: 'ACCEPTED', status: 'QUEUED' });
    });

    it('keeps the error on the record', async () => {
      await createPending();
      await store.claimSubmit(jobId, T0);
      await store.recordSubmitUnknown(
        jobId,
        { errorCode: 'SegmindTimeoutError', errorMessage: 'read timeout' },
        T1,
      );
      expect(await store.get(jobId)).toMatchObject({
        status: 'PENDING',
        submitState: 'UNKNOWN',
        errorCode: 'SegmindTimeoutError',
        errorMessage: 'read timeout',
      });
    });
  });

  describe('recordProgress', () => {
    it('moves QUEUED to PROCESSING once, stamping when processing began', async () => {
      await submitted();
      expect(
        await store.recordProgress(jobId, {
          status: 'PROCESSING',
          lastSegmindStatus: 'PROCESSING',
          pollCount: 2,
          at: T2,
        }),
      ).toBe(true);
      const job = await store.get(jobId);
      expect(job).toMatchObject({
        status: 'PROCESSING',
        lastSegmindStatus: 'PROCESSING',
        pollCount: 2,
        processingAt: T2.toISOString(),
      });

      const later = new Date(T2.getTime() + 5000);
      await store.recordProgress(jobId, {
        status: 'PROCESSING',
        lastSegmindStatus: 'PROCESSING',
        pollCount: 3,
        at: later,
      });
      expect((await store.get(jobId))?.processingAt).toBe(T2.toISOString());
    });

    it('never moves a job back', async () => {
      await submitted();
      await store.recordProgress(jobId, {
        status: 'PROCESSING',
        lastSegmindStatus: 'PROCESSING',
        pollCount: 2,
        at: T2,
      });
      expect(
        await store.recordProgress(jobId, {
          status: 'QUEUED',
          lastSegmindStatus: 'QUEUED',
          pollCount: 3,
          at: T2,
        }),
      ).toBe(false);
      expect(await store.get(jobId)).toMatchObject({ status: 'PROCESSING', pollCount: 2 });
    });

    it('ignores a stale poll that arrives after a later one', async () => {
      await submitted();
      await store.recordProgress(jobId, {
        status: 'PROCESSING',
        lastSegmindStatus: 'PROCESSING',
        pollCount: 5,
        at: T2,
      });
      expect(
        await store.recordProgress(jobId, { lastSegmindStatus: 'WARMING_UP', pollCount: 4, at: T2 }),
      ).toBe(false);
      expect((await store.get(jobId))?.lastSegmindStatus).toBe('PROCESSING');
    });

    it('notes an unknown Segmind status without changing the job status', async () => {
      await submitted();
      expect(
        await store.recordProgress(jobId, { lastSegmindStatus: 'WARMING_UP', pollCount: 2, at: T2 }),
      ).toBe(true);
      expect(await store.get(jobId)).toMatchObject({ status: 'QUEUED', lastSegmindStatus: 'WARMING_UP' });
    });

    it('never touches a job that is storing or has ended', async () => {
      await submitted();
      await store.markStoring(jobId, T2);
      expect(
        await store.recordProgress(jobId, {
          status: 'PROCESSING',
          lastSegmindStatus: 'PROCESSING',
          pollCount: 9,
          at: T2,
        }),
      ).toBe(false);
      await store.recordFailure(jobId, { status: 'FAILED', errorCode: 'X', errorMessage: 'x' }, T2);
      expect(
        await store.recordProgress(jobId, {
          status: 'PROCESSING',
          lastSegmindStatus: 'PROCESSING',
          pollCount: 9,
          at: T2,
        }),
      ).toBe(false);
      expect(await store.recordProgress(jobId, { lastSegmindStatus: 'ODD', pollCount: 9, at: T2 })).toBe(
        false,
      );
      expect((await store.get(jobId))?.status).toBe('FAILED');
    });

    it('writes nothing for an unknown job', async () => {
      expect(
        await store.recordProgress(jobId, {
          status: 'QUEUED',
          lastSegmindStatus: 'QUEUED',
          pollCount: 1,
          at: T2,
        }),
      ).toBe(false);
      expect(await store.get(jobId)).toBeUndefined();
    });
  });

  describe('recordWaiting', () => {
    const waiting = { reason: 'rate-limited', until: T2.toISOString(), detail: 'HTTP 429' };

    it('shows why a running job waits, until its result (or its end) clears it', async () => {
      await submitted();
      expect(await store.recordWaiting(jobId, waiting, T2)).toBe(true);
      expect((await store.get(jobId))?.waiting).toEqual(waiting);
      expect(await store.recordWaiting(jobId, undefined, T2)).toBe(true);
      expect((await store.get(jobId))?.waiting).toBeUndefined();
      await store.recordWaiting(jobId, waiting, T2);
      await store.recordMetrics(jobId, { cost: 1 }, T2);
      expect((await store.get(jobId))?.waiting).toBeUndefined();
    });

    it('never writes on an ended or unknown job', async () => {
      expect(await store.recordWaiting(jobId, waiting, T2)).toBe(false);
      expect(await store.get(jobId)).toBeUndefined();
      await submitted();
      await store.recordFailure(jobId, { status: 'FAILED', errorCode: 'X', errorMessage: 'x' }, T2);
      expect(await store.recordWaiting(jobId, waiting, T2)).toBe(false);
      expect((await store.get(jobId))?.waiting).toBeUndefined();
    });
  });

  describe('recordMetrics', () => {
    it("stores Segmind's cost and timings", async () => {
      await submitted();
      const metrics = {
        inferenceTime: 41.2,
        queueTime: 3.1,
        totalTime: 44.3,
        cost: 0.52,
        remainingCredits: 118.4,
      };
      expect(await store.recordMetrics(jobId, metrics, T2)).toBe(true);
      expect((await store.get(jobId))?.metrics).toEqual(metrics);
    });

    it('creates no record for an unknown job', async () => {
      expect(await store.recordMetrics(jobId, { cost: 1 }, T2)).toBe(false);
      expect(await store.get(jobId)).toBeUndefined();
    });
  });

  describe('markStoring', () => {
    it('marks a running job STORING, idempotently', async () => {
      await submitted();
      const first = await store.markStoring(jobId, T2);
      expect(first).toMatchObject({ status: 'STORING', storingAt: T2.toISOString() });
      const again = await store.markStoring(jobId, new Date(T2.getTime() + 1000));
      expect(again).toMatchObject({ status: 'STORING', storingAt: T2.toISOString() });
    });

    it('refuses a cancelled job with JobCancelledError, leaving it CANCELLED', async () => {
      await submitted();
      await store.recordFailure(
        jobId,
        { status: 'CANCELLED', errorCode: 'JobCancelledError', errorMessage: 'cancelled' },
        T2,
      );
      await expect(store.markStoring(jobId, T2)).rejects.toBeInstanceOf(JobCancelledError);
      expect((await store.get(jobId))?.status).toBe('CANCELLED');
    });

    it('refuses a job that ended otherwise, or does not exist, with JobStateError', async () => {
      await expect(store.markStoring(jobId, T2)).rejects.toBeInstanceOf(JobStateError);
      await submitted();
      await store.recordFailure(
        jobId,
        { status: 'EXPIRED', errorCode: 'SegmindNotFoundError', errorMessage: 'gone' },
        T2,
      );
      const error = await store.markStoring(jobId, T2).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobStateError);
      expect((error as Error).message).toContain('EXPIRED');
    });
  });

  describe('recordFailure', () => {
    it('ends a running job with the failure', async () => {
      await submitted();
      const job = await store.recordFailure(
        jobId,
        { status: 'TIMED_OUT', errorCode: 'JobDeadlineExceededError', errorMessage: 'deadline' },
        T2,
      );
      expect(job).toMatchObject({
        status: 'TIMED_OUT',
        errorCode: 'JobDeadlineExceededError',
        errorMessage: 'deadline',
        failedAt: T2.toISOString(),
        segmindRequestId: SUBMITTED.requestId,
      });
    });

    it('writes the poll count given with the failure, and only then', async () => {
      await submitted();
      const job = await store.recordFailure(
        jobId,
        {
          status: 'TIMED_OUT',
          errorCode: 'JobDeadlineExceededError',
          errorMessage: 'deadline',
          pollCount: 12,
        },
        T2,
      );
      expect(job).toMatchObject({ status: 'TIMED_OUT', pollCount: 12 });

      const other = newJobId();
      await store.create(pendingJob(other));
      const without = await store.recordFailure(
        other,
        { status: 'FAILED', errorCode: 'X', errorMessage: 'x' },
        T2,
      );
      expect(without).not.toHaveProperty('pollCount');
    });

    it('never overwrites a terminal status, and reports the record as it stays', async () => {
      await createPending();
      await store.recordFailure(
        jobId,
        { status: 'CANCELLED', errorCode: 'JobCancelledError', errorMessage: 'by the owner' },
        T1,
      );
      const job = await store.recordFailure(
        jobId,
        { status: 'FAILED', errorCode: 'SegmindJobFailedError', errorMessage: 'late' },
        T2,
      );
      expect(job).toMatchObject({
        status: 'CANCELLED',
        errorCode: 'JobCancelledError',
        errorMessage: 'by the owner',
      });
      expect(await store.get(jobId)).toMatchObject({ status: 'CANCELLED', failedAt: T1.toISOString() });
    });

    it('returns nothing for an unknown job, and creates nothing', async () => {
      expect(
        await store.recordFailure(jobId, { status: 'FAILED', errorCode: 'X', errorMessage: 'x' }, T2),
      ).toBeUndefined();
      expect(await store.get(jobId)).toBeUndefined();
    });
  });
});

describe.each(stores)('cancel against the move to STORING: %s', (_name, makeStore) => {
  const canceller = () => makeStore() as JobStore & JobCanceller;

  it.each(['PENDING', 'QUEUED', 'PROCESSING'] as const)('cancels a %s job', async (status) => {
    const store = canceller();
    const jobId = newJobId();
    await store.create(pendingJob(jobId, { status }));
    expect(await store.cancel(jobId, T1, 'by hand')).toMatchObject({
      kind: 'cancelled',
      job: { status: 'CANCELLED', errorCode: 'JobCancelledError', errorMessage: 'by hand' },
    });
    await expect(store.markStoring(jobId, T2)).rejects.toBeInstanceOf(JobCancelledError);
    expect((await store.get(jobId))?.status).toBe('CANCELLED');
  });

  it('refuses to cancel a STORING job and leaves it STORING', async () => {
    const store = canceller();
    const jobId = newJobId();
    await store.create(pendingJob(jobId, { status: 'PROCESSING' }));
    await store.markStoring(jobId, T1);
    expect(await store.cancel(jobId, T2, 'too late')).toMatchObject({
      kind: 'storing',
      job: { status: 'STORING' },
    });
    expect(await store.get(jobId)).toMatchObject({ status: 'STORING' });
    expect((await store.get(jobId))?.cancelledAt).toBeUndefined();
  });
});

describe('job store on DynamoDB: the item layout others rely on', () => {
  const store = () => createJobStore({ client: table.client, tableName: table.tableName });

  it('keeps the record as plain top-level attributes, listed by the byStatus index', async () => {
    const jobId = newJobId();
    await store().create(pendingJob(jobId, { createdAt: '2031-05-05T00:00:00.000Z' }));
    await store().claimSubmit(jobId, T0);
    await store().recordSubmitted(jobId, SUBMITTED, T1);

    const { Item } = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { jobId } }));
    expect(Item).toMatchObject({
      jobId,
      status: 'QUEUED',
      createdAt: '2031-05-05T00:00:00.000Z',
      segmindRequestId: SUBMITTED.requestId,
    });
    expect(Item?.request).toMatchObject({ prompt: expect.any(String), duration: 8 });

    const listed = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: 'byStatus',
        KeyConditionExpression: '#status = :status AND createdAt >= :from',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': 'QUEUED', ':from': '2031-05-05' },
      }),
    );
    expect(listed.Items?.map((item) => item.jobId)).toContain(jobId);
  });

  it("accepts the state machine's own RecordCompletion update after markStoring", async () => {
    const jobId = newJobId();
    await store().create(pendingJob(jobId));
    await store().claimSubmit(jobId, T0);
    await store().recordSubmitted(jobId, SUBMITTED, T1);
    await store().markStoring(jobId, T2);

    // What the CDK workflow sends as a direct DynamoDB UpdateItem.
    const video = {
      bucket: 'videos',
      key: `videos/${jobId}.mp4`,
      bytes: 1234,
      sha256: 'ab'.repeat(32),
      contentType: 'video/mp4',
    };
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { jobId },
        UpdateExpression:
          'SET #status = :completed, video = :video, completedAt = :at, updatedAt = :at, pollCount = :polls',
        ConditionExpression: '#status = :storing',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':completed': 'COMPLETED',
          ':video': video,
          ':at': T2.toISOString(),
          ':polls': 4,
          ':storing': 'STORING',
        },
      }),
    );
    expect(await store().get(jobId)).toMatchObject({ status: 'COMPLETED', video, pollCount: 4 });
    // And a late failure cannot undo the completion.
    const after = await store().recordFailure(
      jobId,
      { status: 'FAILED', errorCode: 'X', errorMessage: 'x' },
      T2,
    );
    expect(after?.status).toBe('COMPLETED');
  });

  it('cancels a running job once, and reports a job that already ended', async () => {
    const jobId = newJobId();
    await store().create(pendingJob(jobId));
    const cancelled = await store().cancel(jobId, T1, 'Cancelled through the API');
    expect(cancelled).toMatchObject({
      kind: 'cancelled',
      job: { status: 'CANCELLED', cancelledAt: T1.toISOString() },
    });
    expect(await store().cancel(jobId, T2, 'again')).toMatchObject({
      kind: 'already-ended',
      status: 'CANCELLED',
    });
    expect(await store().cancel(newJobId(), T2, 'nothing')).toEqual({ kind: 'missing' });
  });
});
