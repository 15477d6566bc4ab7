// The RecordFailure Lambda end to end on a real (local) DynamoDB: the record always ends terminal, a
// cancelled job stays cancelled, and no failure shape makes it throw.

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FailureOutcome } from '#domain/record-failure';
import type { VideoJob } from '#domain/video-job';
import { stubHandlerEnv } from '#test/support/handler-env';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

let table: JobsTable;
let handler: (event: unknown, context: Context) => Promise<FailureOutcome>;

beforeAll(async () => {
  table = await startJobsTable();
  stubHandlerEnv(table);
  ({ handler } = await import('#functions/record-failure'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await table?.close();
});

const context = { functionName: 'RecordFailure', awsRequestId: 'lambda-req-1' } as Context;

let counter = 0;
const arrange = async (overrides: Partial<VideoJob> = {}): Promise<string> => {
  counter += 1;
  const jobId = `failure-${counter}`;
  await table.putJob(pendingJob(jobId, { status: 'PROCESSING', ...overrides }));
  return jobId;
};
const record = (jobId: string) => table.getJob(jobId);

describe('RecordFailure handler', () => {
  it("ends the job with the Catch's error, as AWS hands it over", async () => {
    const jobId = await arrange();
    const cause = JSON.stringify({
      errorType: 'JobDeadlineExceededError',
      errorMessage: 'no terminal status from Segmind 2400 s after submit',
      trace: ['JobDeadlineExceededError: no terminal status', '    at pollJob (/var/task/index.mjs:1:1)'],
    });
    const outcome = await handler(
      { jobId, failure: { Error: 'JobDeadlineExceededError', Cause: cause } },
      context,
    );
    expect(outcome).toEqual({
      status: 'TIMED_OUT',
      errorCode: 'JobDeadlineExceededError',
      errorMessage: 'no terminal status from Segmind 2400 s after submit',
    });
    expect(await record(jobId)).toMatchObject({ ...outcome, failedAt: expect.any(String) });
  });

  it('takes the whole state and writes its poll count on the record', async () => {
    const jobId = await arrange({ pollCount: 2 });
    const state = {
      jobId,
      request: { prompt: 'a fox', duration: 6, resolution: '1080p' },
      segmind: {
        requestId: 'req-1',
        statusUrl: 'req-1',
        responseUrl: 'req-1',
        submittedAt: '2030-01-01T00:00:00Z',
      },
      poll: { status: 'PROCESSING', pollCount: 7, nextPollAt: '2030-01-01T00:01:00Z', strikes: 0 },
      failure: { Error: 'SegmindAuthError', Cause: 'The API key was rejected' },
    };
    const outcome = await handler(state, context);
    expect(outcome).toMatchObject({ status: 'FAILED', errorCode: 'SegmindAuthError' });
    expect(await record(jobId)).toMatchObject({ status: 'FAILED', pollCount: 7 });
  });

  it.each([
    ['no poll yet (Submit failed)', undefined],
    ['an unreadable poll state', { pollCount: 'many' }],
  ])('still ends the job with %s, leaving the count alone', async (_, poll) => {
    const jobId = await arrange({ status: 'PENDING' });
    const outcome = await handler(
      { jobId, ...(poll === undefined ? {} : { poll }), failure: { Error: 'SegmindAuthError' } },
      context,
    );
    expect(outcome.status).toBe('FAILED');
    const item = await record(jobId);
    expect(item).toMatchObject({ status: 'FAILED' });
    expect(item).not.toHaveProperty('pollCount');
  });

  it('leaves a cancelled job CANCELLED', async () => {
    const jobId = await arrange({
      status: 'CANCELLED',
      errorCode: 'JobCancelledError',
      errorMessage: 'Cancelled through the API',
    });
    const outcome = await handler(
      { jobId, failure: { Error: 'SegmindJobFailedError', Cause: 'late failure' } },
      context,
    );
    expect(outcome.status).toBe('CANCELLED');
    expect(await record(jobId)).toMatchObject({
      status: 'CANCELLED',
      errorMessage: 'Cancelled through the API',
    });
  });

  it.each([undefined, null, 'States.TaskFailed', 42, { Cause: { nested: true } }, { Error: ['x'] }])(
    'records a failure it cannot read (%j) instead of throwing',
    async (failure) => {
      const jobId = await arrange();
      const outcome = await handler({ jobId, failure }, context);
      expect(outcome.status).toBe('FAILED');
      expect((await record(jobId))?.status).toBe('FAILED');
    },
  );

  it('throws only when there is no job id to record against', async () => {
    await expect(handler({ failure: { Error: 'X' } }, context)).rejects.toMatchObject({
      name: 'InvalidPayloadError',
    });
  });
});
