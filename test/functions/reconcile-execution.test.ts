// The ReconcileExecution Lambda on a real (local) DynamoDB, fed the events EventBridge delivers for Step
// Functions executions: an open job ends, an ended one is never touched, an unreadable event is dropped,
// and a DynamoDB failure is thrown so that Lambda retries it (then dead-letters it).
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { VideoJob } from '#domain/video-job';
import type { ReconcileResult } from '#functions/reconcile-execution';
import { stubHandlerEnv } from '#test/support/handler-env';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

let table: JobsTable;
let handler: (event: unknown, context: Context) => Promise<ReconcileResult>;

beforeAll(async () => {
  table = await startJobsTable();
  stubHandlerEnv(table);
  ({ handler } = await import('#functions/reconcile-execution'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await table?.close();
});

const context = { functionName: 'ReconcileExecution', awsRequestId: 'lambda-req-1' } as Context;
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:VideoJob';

/** An event as EventBridge delivers it for a Step Functions execution status change. */
const statusChange = (
  jobId: string,
  status: string,
  extra: { error?: string | null; cause?: string | null; input?: string | null; name?: string } = {},
) => ({
  version: '0',
  id: '315c1398-40ff-a850-213b-158f73e60175',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: '123456789012',
  time: '2030-01-01T02:00:00Z',
  region: 'us-east-1',
  resources: [`${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${jobId}`],
  detail: {
    executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${extra.name ?? jobId}`,
    stateMachineArn: STATE_MACHINE,
    name: extra.name ?? jobId,
    status,
    startDate: 1_893_456_000_000,
    stopDate: 1_893_463_200_000,
    input: extra.input === undefined ? JSON.stringify({ jobId, request: { prompt: 'a fox' } }) : extra.input,
    output: null,
    inputDetails: { included: true },
    outputDetails: null,
    error: extra.error ?? null,
    cause: extra.cause ?? null,
  },
});

let counter = 0;
const arrange = async (overrides: Partial<VideoJob> = {}): Promise<string> => {
  counter += 1;
  const jobId = `reconcile-${counter}`;
  await table.putJob(pendingJob(jobId, { status: 'PROCESSING', ...overrides }));
  return jobId;
};
const record = (jobId: string) => table.getJob(jobId);

describe('ReconcileExecution handler', () => {
  it('ends a job its timed-out execution left PROCESSING', async () => {
    const jobId = await arrange();
    const outcome = await handler(statusChange(jobId, 'TIMED_OUT'), context);
    expect(outcome).toMatchObject({ kind: 'reconciled', status: 'TIMED_OUT', errorCode: 'States.Timeout' });
    expect(await record(jobId)).toMatchObject({
      status: 'TIMED_OUT',
      errorCode: 'States.Timeout',
      failedAt: expect.any(String),
    });
  });

  it('cancels the job of an execution stopped from outside', async () => {
    const jobId = await arrange({ status: 'QUEUED' });
    const outcome = await handler(
      statusChange(jobId, 'ABORTED', { error: 'Maintenance', cause: 'Stopped during maintenance' }),
      context,
    );
    expect(outcome).toMatchObject({ kind: 'reconciled', status: 'CANCELLED' });
    expect(await record(jobId)).toMatchObject({
      status: 'CANCELLED',
      errorCode: 'JobCancelledError',
      errorMessage: 'Stopped during maintenance',
      cancelledAt: expect.any(String),
    });
  });

  it("fails the job of a failed execution with the execution's error and cause", async () => {
    const jobId = await arrange({ status: 'PROCESSING' });
    await handler(
      statusChange(jobId, 'FAILED', { error: 'VideoIntegrityError', cause: 'The video has 10 bytes' }),
      context,
    );
    expect(await record(jobId)).toMatchObject({
      status: 'FAILED',
      errorCode: 'VideoIntegrityError',
      errorMessage: 'The video has 10 bytes',
    });
  });

  it('leaves a STORING job to the sweeper: its paid video may already be in the bucket', async () => {
    const jobId = await arrange({ status: 'STORING' });
    const outcome = await handler(
      statusChange(jobId, 'FAILED', { error: 'VideoIntegrityError', cause: 'The video has 10 bytes' }),
      context,
    );
    expect(outcome).toEqual({ kind: 'left-for-sweeper', status: 'STORING' });
    expect(await record(jobId)).toMatchObject({ status: 'STORING' });
  });

  it('leaves a job that ended (the normal failure path already recorded it) exactly as it is', async () => {
    const jobId = await arrange({
      status: 'EXPIRED',
      errorCode: 'SegmindNotFoundError',
      errorMessage: 'Segmind no longer knows request r-1',
    });
    const before = await record(jobId);
    const event = statusChange(jobId, 'FAILED', {
      error: 'SegmindNotFoundError',
      cause: 'Segmind no longer knows request r-1',
    });
    // At-least-once delivery: the same event twice.
    expect(await handler(event, context)).toEqual({ kind: 'already-ended', status: 'EXPIRED' });
    expect(await handler(event, context)).toEqual({ kind: 'already-ended', status: 'EXPIRED' });
    expect(await record(jobId)).toEqual(before);
  });

  it('finds the job by the input when the execution name is not its id, and by the name otherwise', async () => {
    const byInput = await arrange();
    await handler(statusChange(byInput, 'TIMED_OUT', { name: 'batch-7-line-3-attempt' }), context);
    expect((await record(byInput))?.status).toBe('TIMED_OUT');

    const byName = await arrange();
    await handler(statusChange(byName, 'TIMED_OUT', { input: null }), context);
    expect((await record(byName))?.status).toBe('TIMED_OUT');
  });

  it('writes nothing for an execution without a job record', async () => {
    expect(await handler(statusChange('no-such-job', 'FAILED', { error: 'X' }), context)).toEqual({
      kind: 'missing',
    });
    expect(await record('no-such-job')).toBeUndefined();
  });

  it.each([
    ['a status that needs nothing', (jobId: string) => statusChange(jobId, 'SUCCEEDED')],
    ['an event that is not a status change', () => ({ source: 'aws.s3', detail: { bucket: 'x' } })],
    ['an execution name that is no job id', () => statusChange('not a job id!', 'FAILED', { input: null })],
  ])('drops %s without writing or throwing', async (_, event) => {
    const jobId = await arrange();
    const before = await record(jobId);
    expect(await handler(event(jobId), context)).toMatchObject({ kind: 'ignored' });
    expect(await record(jobId)).toEqual(before);
  });

  it('throws when DynamoDB fails, so that Lambda retries the event and finally dead-letters it', async () => {
    const dynamo = mockClient(DynamoDBDocumentClient);
    dynamo
      .onAnyCommand()
      .rejects(Object.assign(new Error('Service unavailable'), { name: 'InternalServerError' }));
    try {
      await expect(handler(statusChange('reconcile-x', 'TIMED_OUT'), context)).rejects.toMatchObject({
        name: 'InternalServerError',
      });
    } finally {
      dynamo.restore();
    }
  });
});
