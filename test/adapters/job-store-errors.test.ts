// The DynamoDB adapter's error mapping, with the SDK mocked: a failed condition becomes an answer (or a
// named workflow error); anything else DynamoDB throws reaches the caller unchanged.

import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createJobStore, DynamoJobStore } from '#adapters/job-store';
import { jobsConfig } from '#commons/config';
import { JobCancelledError, JobStateError } from '#domain/errors';
import { pendingJob } from '#test/support/workflow-fakes';

const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
);
const ddb = mockClient(client);
const store = new DynamoJobStore(client, 'jobs-table');
const AT = new Date('2030-01-01T00:00:00.000Z');

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoJobStore error mapping', () => {
  it('turns a failed claim into the reason read back from the record', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: pendingJob('j1', { submitState: 'UNKNOWN' }) });
    expect(await store.claimSubmit('j1', AT)).toMatchObject({ kind: 'in-doubt', submitState: 'UNKNOWN' });

    const get = ddb.commandCalls(GetCommand)[0]?.args[0].input;
    expect(get).toMatchObject({ TableName: 'jobs-table', Key: { jobId: 'j1' }, ConsistentRead: true });
  });

  it('claims with a condition that forbids a second POST', async () => {
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: pendingJob('j1', { submitState: 'IN_FLIGHT', submitAttempts: 1 }) });
    expect((await store.claimSubmit('j1', AT)).kind).toBe('claimed');
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toContain('attribute_not_exists(#segmindRequestId)');
    expect(input?.ConditionExpression).toContain('#status = :pending');
    expect(input?.ExpressionAttributeNames).toMatchObject({
      '#status': 'status',
      '#submitState': 'submitState',
    });
  });

  it('lets any other DynamoDB error through unchanged, so Step Functions can retry it by name', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const error = await store
      .recordFailure('j1', { status: 'FAILED', errorCode: 'X', errorMessage: 'x' }, AT)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ProvisionedThroughputExceededException');
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers a duplicate create with the existing record', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: pendingJob('j1', { status: 'QUEUED' }) });
    const outcome = await store.create(pendingJob('j1'));
    expect(outcome).toMatchObject({ created: false, job: { status: 'QUEUED' } });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.ConditionExpression).toBe(
      'attribute_not_exists(#jobId)',
    );
  });

  it('maps a refused markStoring to JobCancelledError or JobStateError by the record', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: pendingJob('j1', { status: 'CANCELLED' }) })
      .resolves({});
    await expect(store.markStoring('j1', AT)).rejects.toBeInstanceOf(JobCancelledError);
    await expect(store.markStoring('j1', AT)).rejects.toBeInstanceOf(JobStateError);
  });

  it('returns the terminal record when recordFailure finds the job already ended', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb
      .on(GetCommand)
      .resolves({ Item: pendingJob('j1', { status: 'CANCELLED', errorCode: 'JobCancelledError' }) });
    const job = await store.recordFailure('j1', { status: 'FAILED', errorCode: 'X', errorMessage: 'x' }, AT);
    expect(job).toMatchObject({ status: 'CANCELLED', errorCode: 'JobCancelledError' });
  });

  it('reports a record it cannot read as JobStateError rather than guessing', async () => {
    ddb.on(GetCommand).resolves({ Item: { jobId: 'j1', status: 'HALF_DONE' } });
    await expect(store.get('j1')).rejects.toBeInstanceOf(JobStateError);
  });

  it('reports progress and bookkeeping refused by their conditions as false, not as errors', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    expect(
      await store.recordProgress('j1', {
        status: 'PROCESSING',
        lastSegmindStatus: 'PROCESSING',
        pollCount: 3,
        at: AT,
      }),
    ).toBe(false);
    expect(await store.recordMetrics('j1', { cost: 1 }, AT)).toBe(false);
    expect(await store.recordSubmitNotCreated('j1', { errorCode: 'X', errorMessage: 'x' }, AT)).toBe(false);
    expect(await store.recordSubmitUnknown('j1', { errorCode: 'X', errorMessage: 'x' }, AT)).toBe(false);
  });
});

describe('createJobStore', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    jobsConfig.reset();
  });

  it('reads the table name from JOBS_TABLE_NAME', async () => {
    vi.stubEnv('JOBS_TABLE_NAME', 'from-env');
    jobsConfig.reset();
    ddb.on(GetCommand).resolves({});
    await createJobStore({ client }).get('j1');
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.TableName).toBe('from-env');
  });

  it('fails naming the variable when JOBS_TABLE_NAME is missing', () => {
    vi.stubEnv('JOBS_TABLE_NAME', '');
    jobsConfig.reset();
    expect(() => createJobStore({ client })).toThrow(/JOBS_TABLE_NAME/);
  });
});
