// The local runner's adaptations, checked on small definitions: what a Catch sees, how Retry pauses
// scale, how service integrations answer, and that an unknown integration fails before anything runs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventBus } from '#local/event-bus';
import { LocalLambdaRuntime } from '#local/lambda-runtime';
import { type LocalServers, startLocalServers } from '#local/servers';
import { LocalStateMachine, type StateMachineDefinition } from '#local/state-machine';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Scripted';
const entry = fileURLToPath(new URL('./fixtures/scripted-handler.ts', import.meta.url));

let dataDir: string;
let servers: LocalServers;
let dynamodb: DynamoDBClient;
let events: LocalEventBus;
let lambda: LocalLambdaRuntime;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ltx-runner-test-'));
  servers = await startLocalServers({
    dataDir,
    tables: [
      {
        TableName: 'Jobs',
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'jobId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      },
    ],
  });
  dynamodb = new DynamoDBClient(servers.dynamodb.clientConfig);
  events = new LocalEventBus({ account: '123456789012', region: 'us-east-1' });
  lambda = new LocalLambdaRuntime([
    { name: 'Scripted', arn: FUNCTION_ARN, entry, timeoutSeconds: 5, memoryMb: 128 },
  ]);
});

afterAll(async () => {
  dynamodb?.destroy();
  await servers?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const machine = (definition: unknown, timeScale = 1) =>
  new LocalStateMachine({
    definition: definition as StateMachineDefinition,
    name: 'Test',
    resources: { lambda, dynamodb, events },
    timeScale,
  });

const workThenRecord = (retry: unknown[] = []) => ({
  StartAt: 'Work',
  States: {
    Work: {
      Type: 'Task',
      Resource: FUNCTION_ARN,
      InputPath: '$.script',
      ResultPath: '$.work',
      Retry: retry,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Caught' }],
      End: true,
    },
    Caught: { Type: 'Pass', End: true },
  },
});

describe('LocalStateMachine', () => {
  it("gives a Catch the AWS shape of a Lambda error: Cause is the runtime's JSON document", async () => {
    const outcome = await machine(workThenRecord()).execute(
      { script: { action: 'throw', errorName: 'SegmindAuthError', message: 'wrong key' } },
      { name: 'catch-shape' },
    );
    expect(outcome.status).toBe('SUCCEEDED');
    const { failure } = outcome.output as { failure: { Error: string; Cause: string } };
    expect(failure.Error).toBe('SegmindAuthError');
    expect(JSON.parse(failure.Cause)).toMatchObject({
      errorType: 'SegmindAuthError',
      errorMessage: 'wrong key',
    });
  });

  it('retries by error name with pauses shrunk by the time scale, and counts what it did', async () => {
    // Unscaled, these pauses would add up to 30 + 60 s and the test would time out.
    const retry = [{ ErrorEquals: ['TransientError'], IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: 3 }];
    const outcome = await machine(workThenRecord(retry), 1000).execute(
      { script: { action: 'fail-then-echo', failures: 2, key: 'retry-scaled', value: 'ok' } },
      { name: 'retry-scaled' },
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.output).toMatchObject({ work: { value: 'ok', call: 3 } });
    expect(outcome.stats).toMatchObject({
      lambdaInvocations: 3,
      lambdaInvocationsByFunction: { Scripted: 3 },
      retries: 2,
      stateTransitions: 1 + 2,
    });
  });

  it('maps DynamoDB and EventBridge integrations to the local servers with AWS names for errors', async () => {
    const definition = {
      StartAt: 'Create',
      States: {
        Create: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:putItem',
          Parameters: {
            TableName: 'Jobs',
            Item: { jobId: { 'S.$': '$.jobId' } },
            ConditionExpression: 'attribute_not_exists(jobId)',
          },
          ResultPath: null,
          Catch: [
            {
              ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
              ResultPath: '$.failure',
              Next: 'Publish',
            },
          ],
          Next: 'Publish',
        },
        Publish: {
          Type: 'Task',
          Resource: 'arn:aws:states:::events:putEvents',
          Parameters: {
            Entries: [
              {
                Source: 'test',
                DetailType: 'Created',
                Detail: { 'jobId.$': '$.jobId' },
                EventBusName: 'default',
              },
            ],
          },
          ResultPath: '$.published',
          End: true,
        },
      },
    };
    const first = await machine(definition).execute({ jobId: 'j-1' }, { name: 'first' });
    const second = await machine(definition).execute({ jobId: 'j-1' }, { name: 'second' });

    expect(first.output).toMatchObject({ published: { FailedEntryCount: 0 } });
    expect(second.output).toMatchObject({ failure: { Error: 'DynamoDB.ConditionalCheckFailedException' } });
    expect(events.events().map((e) => [e['detail-type'], e.detail])).toEqual([
      ['Created', { jobId: 'j-1' }],
      ['Created', { jobId: 'j-1' }],
    ]);
    expect(first.stats.serviceCalls).toEqual({ 'dynamodb:putItem': 1, 'events:putEvents': 1 });
  });

  it('reports a failed execution with the Fail state error and cause', async () => {
    const outcome = await machine({
      StartAt: 'Stop',
      States: { Stop: { Type: 'Fail', ErrorPath: '$.code', CausePath: '$.detail' } },
    }).execute({ code: 'SegmindJobFailedError', detail: 'content blocked' }, { name: 'fails' });
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'SegmindJobFailedError',
      cause: 'content blocked',
    });
  });

  it('refuses a definition with an integration it cannot run locally, before running anything', () => {
    expect(() =>
      machine({
        StartAt: 'Send',
        States: { Send: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
      }),
    ).toThrow(/no implementation for Task resource arn:aws:states:::sqs:sendMessage/);
  });
});

describe('the context object', () => {
  it('answers $$.Execution.Name with the execution name and $$.State.EnteredTime with the entry time', async () => {
    const before = Date.now();
    const outcome = await machine({
      StartAt: 'Read',
      States: {
        Read: {
          Type: 'Pass',
          Parameters: { 'name.$': '$$.Execution.Name', 'entered.$': '$$.State.EnteredTime' },
          End: true,
        },
      },
    }).execute({}, { name: 'job-42' });
    const output = outcome.output as { name: string; entered: string };
    expect(output.name).toBe('job-42');
    expect(Date.parse(output.entered)).toBeGreaterThanOrEqual(before);
  });
});
