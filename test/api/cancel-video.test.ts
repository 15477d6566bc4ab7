// DELETE /videos/{jobId} through the real middy handler; DynamoDB and Step Functions behind aws-sdk-client-mock.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ExecutionDoesNotExist, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TERMINAL_STATUSES } from '#domain/video-job';
import {
  type ApiHandler,
  apiEvent,
  CALLER_OWNER,
  fieldsOf,
  invoke,
  stubApiEnvironment,
} from '#test/api/support/api-events';
import { fakeJobsTable } from '#test/api/support/fake-jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

const table = fakeJobsTable();
const sfn = mockClient(SFNClient);
const eventBridge = mockClient(EventBridgeClient);
let handler: ApiHandler;

beforeAll(async () => {
  stubApiEnvironment();
  ({ handler } = await import('#functions/api/cancel-video'));
});
afterAll(() => {
  vi.unstubAllEnvs();
});
beforeEach(() => {
  table.reset();
  sfn.reset();
  sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});

const cancel = (jobId: string) =>
  invoke(
    handler,
    apiEvent({
      method: 'DELETE',
      resource: '/videos/{jobId}',
      path: `/videos/${jobId}`,
      pathParameters: { jobId },
    }),
  );

describe('DELETE /videos/{jobId}', () => {
  it('marks a running job CANCELLED and stops its execution', async () => {
    table.put(pendingJob('job-1', { owner: CALLER_OWNER, status: 'PROCESSING' }));

    const result = await cancel('job-1');

    expect(result.statusCode).toBe(200);
    expect(result.body).toMatchObject({
      jobId: 'job-1',
      status: 'CANCELLED',
      cancelledAt: expect.any(String),
      error: { code: 'JobCancelledError' },
    });
    expect(table.get('job-1')?.status).toBe('CANCELLED');
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([
      'arn:aws:states:eu-west-1:123456789012:execution:VideoJob:job-1',
    ]);
    // The stopped execution publishes nothing: the cancel announces the job's end on the workflow's bus.
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries).toMatchObject([{ EventBusName: 'jobs-bus', DetailType: 'Video Generation Failed' }]);
    expect(JSON.parse(entries[0]?.Detail ?? '{}')).toMatchObject({
      jobId: 'job-1',
      outcome: { status: 'CANCELLED', errorCode: 'JobCancelledError' },
    });
  });

  it.each(TERMINAL_STATUSES)(
    'answers 409 for a job already %s, changing and stopping nothing',
    async (status) => {
      table.put(pendingJob('job-1', { owner: CALLER_OWNER, status }));

      const result = await cancel('job-1');

      expect(result.statusCode).toBe(409);
      expect(result.body.error).toMatchObject({
        code: 'JobAlreadyEnded',
        message: expect.stringContaining(status),
      });
      expect(table.get('job-1')?.status).toBe(status);
      expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    },
  );

  it('answers 409 JobBeingStored for a STORING job: its video is paid for and it will end COMPLETED', async () => {
    table.put(pendingJob('job-1', { owner: CALLER_OWNER, status: 'STORING' }));

    const result = await cancel('job-1');

    expect(result.statusCode).toBe(409);
    expect(result.body.error).toMatchObject({
      code: 'JobBeingStored',
      message: expect.stringContaining('will end COMPLETED'),
    });
    expect(table.get('job-1')?.status).toBe('STORING');
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  it('answers 404 for a job that does not exist', async () => {
    const result = await cancel('job-nope');
    expect(result.statusCode).toBe(404);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  it("answers 404 for another caller's job, and neither changes nor stops it", async () => {
    table.put(pendingJob('job-bob', { owner: 'api-key:bob', status: 'PROCESSING' }));
    const result = await cancel('job-bob');
    expect(result.statusCode).toBe(404);
    expect(result.body.error).toMatchObject({ code: 'NotFound', message: 'there is no job job-bob' });
    expect(table.get('job-bob')?.status).toBe('PROCESSING');
    expect(table.mock.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  it('refuses a malformed job id with a 400 naming it, touching nothing', async () => {
    const result = await cancel('../etc');
    expect(result.statusCode).toBe(400);
    expect(fieldsOf(result)).toEqual(['jobId']);
    expect(table.mock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('cancels a job whose execution has not started yet', async () => {
    table.put(pendingJob('job-1', { owner: CALLER_OWNER }));
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'none', $metadata: {} }));
    const result = await cancel('job-1');
    expect(result.statusCode).toBe(200);
    expect(table.get('job-1')?.status).toBe('CANCELLED');
  });

  it('still reports the cancel when the execution cannot be stopped: the workflow discards the late result', async () => {
    table.put(pendingJob('job-1', { owner: CALLER_OWNER, status: 'QUEUED' }));
    sfn.on(StopExecutionCommand).rejects(new Error('ThrottlingException'));
    const result = await cancel('job-1');
    expect(result.statusCode).toBe(200);
    expect(result.body.status).toBe('CANCELLED');
  });
});
