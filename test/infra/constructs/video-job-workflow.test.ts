// The VideoJob state machine, read back from the synthesized template and checked state by state: the
// handlers are written against exactly this data flow, and the retry rules decide whether we pay twice.
import aslValidator from 'asl-validator';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as segmindKey from '#commons/segmind-key';
import * as domainErrors from '#domain/errors';
import { VIDEO_JOB_STATES as S, VIDEO_JOB_EVENTS } from '#infra/constructs/video-job-workflow';
import { type AslDefinition, type AslState, lambdaFunctionOf } from '#infra/definition';
import * as segmindErrors from '#segmind/errors';
import {
  type AssemblyRoot,
  assemblyRoot,
  catchersOf,
  logicalIdOf,
  retriersOf,
  type SynthesizedApp,
  stateOf,
  synthApp,
  videoJobDefinition,
} from '#test/infra/support/cdk';

let root: AssemblyRoot;
let app: SynthesizedApp;
let definition: AslDefinition;

beforeAll(() => {
  root = assemblyRoot();
  app = synthApp(root);
  definition = videoJobDefinition(app);
});
afterAll(() => root.cleanup());

const functionLogicalId = (name: keyof SynthesizedApp['stack']['workflow']['functions']): string =>
  logicalIdOf(app, app.stack.workflow.functions[name]);

/** The Lambda a Task invokes, as the logical id of its function (default resolver: `…:function:<id>`). */
const invokedFunction = (state: AslState): string | undefined =>
  lambdaFunctionOf(state)?.split(':function:')[1];

const retriedErrors = (state: AslState): string[] => retriersOf(state).flatMap((r) => r.ErrorEquals);

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

const TASKS_CAUGHT_INTO_RECORD_FAILURE = [
  S.submit,
  S.pollStatus,
  S.fetchResult,
  S.storeVideo,
  S.recordCompletion,
];

describe('the VideoJob definition as a whole', () => {
  it('is valid ASL', () => {
    const result = aslValidator(structuredClone(definition));
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('starts at Submit and has a backstop timeout', () => {
    expect(definition.StartAt).toBe(S.submit);
    expect(definition.TimeoutSeconds).toBe(2 * 60 * 60);
  });

  it('uses JSONPath only: the local interpreter runs neither JSONata nor variables', () => {
    const text = JSON.stringify(definition);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(text).not.toContain('JSONata');
    for (const state of Object.values(definition.States)) {
      expect(state).not.toHaveProperty('Assign');
      expect(state).not.toHaveProperty('Arguments');
      expect(state).not.toHaveProperty('Output');
    }
  });

  it('has exactly the states of the diagram', () => {
    expect(Object.keys(definition.States).sort()).toEqual(Object.values(S).sort());
  });

  it('sets an explicit timeout on every Task (the local interpreter would default to 60 s)', () => {
    const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks).toHaveLength(8);
    for (const [, state] of tasks) {
      expect(state.TimeoutSeconds).toEqual(expect.any(Number));
    }
  });

  it('gives each Lambda Task more time than its function, so the Lambda timeout fires (and logs) first', () => {
    for (const state of Object.values(definition.States)) {
      const fn = invokedFunction(state);
      if (fn === undefined) continue;
      const timeout = app.json.Resources?.[fn]?.Properties?.Timeout;
      expect(timeout).toEqual(expect.any(Number));
      expect(state.TimeoutSeconds).toBeGreaterThan(timeout as number);
    }
  });

  it('catches every error of every working Task into RecordFailure, keeping the state under $.failure', () => {
    for (const name of TASKS_CAUGHT_INTO_RECORD_FAILURE) {
      expect(catchersOf(stateOf(definition, name)), name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: S.recordFailure },
      ]);
    }
  });

  it('costs 3 state transitions per poll and 10 fixed ones on the success path', () => {
    const loop: string[] = [];
    let name = stateOf(definition, S.isVideoReady).Default as string;
    while (name !== S.isVideoReady) {
      loop.push(name);
      name = stateOf(definition, name).Next as string;
    }
    expect([...loop, S.isVideoReady]).toEqual([S.waitForNextPoll, S.pollStatus, S.isVideoReady]);

    const successPath = [
      S.submit,
      S.isSubmitAdmitted,
      S.waitForFirstPoll,
      S.fetchResult,
      S.isResultFetched,
      S.storeVideo,
      S.isVideoStored,
      S.recordCompletion,
    ];
    const walked: string[] = [];
    let next: string | undefined = S.submit;
    while (next !== undefined) {
      walked.push(next);
      const state = stateOf(definition, next);
      if (state.Type !== 'Choice') next = state.Next as string | undefined;
      else next = next === S.isVideoReady ? S.fetchResult : (state.Default as string);
    }
    const fixed = walked.filter((n) => n !== S.pollStatus && n !== S.isVideoReady);
    expect(fixed).toEqual([...successPath, S.publishSucceeded, S.videoStored]);
    expect(fixed.length).toBeLessThanOrEqual(10);
  });
});

/** The `name` of every error class the handlers' modules export. */
const thrownErrorNames = (...modules: Record<string, unknown>[]): Set<string> => {
  const names = new Set<string>();
  for (const value of modules.flatMap((m) => Object.values(m))) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
    const instance: unknown = Reflect.construct(value, ['message', 'field']);
    if (instance instanceof Error) names.add(instance.name);
  }
  return names;
};

describe('error names', () => {
  it('retry and catch only errors the handlers really throw (renaming one breaks this test)', () => {
    const known = thrownErrorNames(segmindErrors, domainErrors, segmindKey);
    const named = Object.values(definition.States)
      .flatMap((state) => [...retriersOf(state), ...catchersOf(state)])
      .flatMap((rule) => rule.ErrorEquals)
      .filter((name) => !/^(States|Lambda|DynamoDB)\./.test(name));
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('Submit', () => {
  const submit = () => stateOf(definition, S.submit);

  it('invokes the submit function with the whole input and keeps its answer under $.segmind', () => {
    expect(invokedFunction(submit())).toBe(functionLogicalId('submit'));
    expect(submit().Parameters).toBeUndefined();
    expect(submit().ResultSelector).toBeUndefined();
    expect(submit().ResultPath).toBe('$.segmind');
    expect(submit().Next).toBe(S.isSubmitAdmitted);
  });

  it('waits for the rate budget in the state machine, at the time Submit computed, then submits again', () => {
    const admitted = stateOf(definition, S.isSubmitAdmitted);
    expect(admitted.Type).toBe('Choice');
    expect(admitted.Choices).toEqual([
      { Variable: '$.segmind.budget', IsPresent: true, Next: S.waitForRateBudget },
    ]);
    expect(admitted.Default).toBe(S.waitForFirstPoll);
    const wait = stateOf(definition, S.waitForRateBudget);
    expect(wait).toMatchObject({ Type: 'Wait', TimestampPath: '$.segmind.budget.retryAt', Next: S.submit });
  });

  it('retries only errors that prove Segmind created no job, never everything', () => {
    const errors = retriedErrors(submit());
    expect(errors).not.toContain('States.ALL');
    expect(errors).not.toContain('States.TaskFailed');
    expect(errors).not.toContain('States.Timeout');
    expect(errors).not.toContain('SubmitOutcomeUnknownError');
    expect(errors.sort()).toEqual(
      [
        ...LAMBDA_SERVICE_ERRORS,
        'SegmindUnavailableError',
        'SegmindRateLimitedError',
        'SegmindTimeoutError',
        'SegmindMalformedResponseError',
        'SegmindKeyError',
        'RequestBudgetContentionError',
      ].sort(),
    );
  });

  it('backs off with full jitter and a cap, a few attempts at most', () => {
    const segmindRetriers = retriersOf(submit()).filter((r) =>
      r.ErrorEquals.some((e) => e.startsWith('Segmind')),
    );
    expect(segmindRetriers.length).toBeGreaterThan(0);
    for (const retrier of segmindRetriers) {
      expect(retrier).toMatchObject({
        BackoffRate: 2,
        JitterStrategy: 'FULL',
        MaxDelaySeconds: expect.any(Number),
      });
      expect(retrier.MaxAttempts).toBeLessThanOrEqual(4);
      expect(retrier.IntervalSeconds).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('the polling loop', () => {
  it('waits until the time Submit chose for the first poll', () => {
    expect(stateOf(definition, S.waitForFirstPoll)).toEqual({
      Type: 'Wait',
      TimestampPath: '$.segmind.firstPollAt',
      Next: S.pollStatus,
    });
  });

  it('polls with the whole state and keeps the answer under $.poll', () => {
    const poll = stateOf(definition, S.pollStatus);
    expect(invokedFunction(poll)).toBe(functionLogicalId('poll-status'));
    expect(poll.Parameters).toBeUndefined();
    expect(poll.ResultPath).toBe('$.poll');
    expect(poll.Next).toBe(S.isVideoReady);
  });

  it('leaves 429s, 5xx, timeouts and unreadable answers of a poll to the polling policy, not to Retry', () => {
    const errors = retriedErrors(stateOf(definition, S.pollStatus));
    expect(errors.filter((name) => name.startsWith('Segmind'))).toEqual(['SegmindKeyError']);
    expect(errors).not.toContain('States.ALL');
  });

  it('branches on $.poll.status: COMPLETED fetches, FAILED records, anything else waits', () => {
    expect(stateOf(definition, S.isVideoReady)).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.poll.status', StringEquals: 'COMPLETED', Next: S.fetchResult },
        { Variable: '$.poll.status', StringEquals: 'FAILED', Next: S.segmindReportedFailure },
      ],
      Default: S.waitForNextPoll,
    });
  });

  it('waits until the time PollStatus chose for the next poll', () => {
    expect(stateOf(definition, S.waitForNextPoll)).toEqual({
      Type: 'Wait',
      TimestampPath: '$.poll.nextPollAt',
      Next: S.pollStatus,
    });
  });

  it("turns Segmind's FAILED into a failure shaped like a caught error", () => {
    expect(stateOf(definition, S.segmindReportedFailure)).toEqual({
      Type: 'Pass',
      Parameters: { Error: 'SegmindJobFailedError', 'Cause.$': '$.poll.error' },
      ResultPath: '$.failure',
      Next: S.recordFailure,
    });
  });
});

describe('the success path', () => {
  it('fetches the result with the whole state (its previous RetryLater included), into $.result', () => {
    const fetch = stateOf(definition, S.fetchResult);
    expect(invokedFunction(fetch)).toBe(functionLogicalId('fetch-result'));
    expect(fetch.Parameters).toBeUndefined();
    expect(fetch.ResultPath).toBe('$.result');
    expect(fetch.Next).toBe(S.isResultFetched);
    // 429s, 5xx, timeouts and a result not yet there come back as a RetryLater, looped by the deadline.
    expect(retriedErrors(fetch).filter((name) => name.startsWith('Segmind'))).toEqual(['SegmindKeyError']);
    expect(retriedErrors(fetch)).not.toContain('States.ALL');
  });

  it('waits until $.result.retryAt and fetches again when FetchResult says so, else stores', () => {
    expect(stateOf(definition, S.isResultFetched)).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.result.retryAt', IsPresent: true, Next: S.waitToFetchResult }],
      Default: S.storeVideo,
    });
    expect(stateOf(definition, S.waitToFetchResult)).toEqual({
      Type: 'Wait',
      TimestampPath: '$.result.retryAt',
      Next: S.fetchResult,
    });
  });

  it('stores the video with the whole state (the request to check it against), with enough time', () => {
    const store = stateOf(definition, S.storeVideo);
    expect(invokedFunction(store)).toBe(functionLogicalId('store-video'));
    expect(store.Parameters).toBeUndefined();
    expect(store.ResultPath).toBe('$.video');
    expect(store.Next).toBe(S.isVideoStored);
    expect(store.TimeoutSeconds).toBeGreaterThanOrEqual(600);
    // A broken or wrong download comes back as a RetryLater: a fresh result, then another download.
    expect(retriedErrors(store)).not.toContain('VideoTransferError');
    expect(retriedErrors(store)).not.toContain('States.ALL');
  });

  it('goes back to FetchResult after waiting until $.video.retryAt, else records the completion', () => {
    expect(stateOf(definition, S.isVideoStored)).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.video.retryAt', IsPresent: true, Next: S.waitToDownloadAgain }],
      Default: S.recordCompletion,
    });
    expect(stateOf(definition, S.waitToDownloadAgain)).toEqual({
      Type: 'Wait',
      TimestampPath: '$.video.retryAt',
      Next: S.fetchResult,
    });
  });

  it('records completion with one conditional DynamoDB update, no Lambda', () => {
    const record = stateOf(definition, S.recordCompletion);
    expect(record.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(record.Parameters).toEqual({
      TableName: logicalIdOf(app, app.stack.storage.jobs),
      Key: { jobId: { 'S.$': '$.jobId' } },
      UpdateExpression: expect.stringMatching(/^SET .* REMOVE [^=]+$/),
      ConditionExpression: '#status = :storing',
      ExpressionAttributeNames: expect.objectContaining({ '#status': 'status' }),
      ExpressionAttributeValues: {
        ':completed': { S: 'COMPLETED' },
        ':storing': { S: 'STORING' },
        ':video': {
          M: {
            bucket: { 'S.$': '$.video.bucket' },
            key: { 'S.$': '$.video.key' },
            bytes: { 'N.$': "States.Format('{}', $.video.bytes)" },
            sha256: { 'S.$': '$.video.sha256' },
            contentType: { 'S.$': '$.video.contentType' },
          },
        },
        ':now': { 'S.$': '$$.State.EnteredTime' },
        ':pollCount': { 'N.$': "States.Format('{}', $.poll.pollCount)" },
      },
      ReturnValues: 'NONE',
    });
    // Each SET target resolves to the attribute the job record uses.
    const parameters = record.Parameters as {
      UpdateExpression: string;
      ExpressionAttributeNames: Record<string, string>;
    };
    const attribute = (name: string) => parameters.ExpressionAttributeNames[name.trim()] ?? name;
    const [setClause = '', removeClause = ''] = parameters.UpdateExpression.replace(/^SET /, '').split(
      ' REMOVE ',
    );
    const assignments = Object.fromEntries(
      setClause
        .split(',')
        .map((part) => part.split('=').map((side) => side.trim()))
        .map(([name, value]) => [attribute(name ?? ''), value]),
    );
    expect(assignments).toEqual({
      status: ':completed',
      video: ':video',
      completedAt: ':now',
      updatedAt: ':now',
      pollCount: ':pollCount',
      // The COMPLETED poll writes nothing to the record; without this it would still say PROCESSING.
      lastSegmindStatus: ':completed',
    });
    // An error noted by an earlier, retried submit attempt, or a wait noted by a retried step, must not
    // linger on a completed job.
    expect(removeClause.split(',').map(attribute).sort()).toEqual(['errorCode', 'errorMessage', 'waiting']);
    expect(record.ResultPath).toBeNull();
    expect(record.Next).toBe(S.publishSucceeded);
    expect(retriedErrors(record)).toEqual(
      expect.arrayContaining([
        'DynamoDB.ThrottlingException',
        'DynamoDB.ProvisionedThroughputExceededException',
      ]),
    );
    expect(retriedErrors(record)).not.toContain('DynamoDB.ConditionalCheckFailedException');
  });

  it('publishes "Video Generation Succeeded" and succeeds even if publishing fails', () => {
    const publish = stateOf(definition, S.publishSucceeded);
    expect(publish.Resource).toBe('arn:aws:states:::events:putEvents');
    expect(publish.Parameters).toEqual({
      Entries: [
        {
          Source: VIDEO_JOB_EVENTS.source,
          DetailType: 'Video Generation Succeeded',
          Detail: { 'jobId.$': '$.jobId', 'video.$': '$.video' },
          EventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/default',
        },
      ],
    });
    expect(publish.ResultPath).toBeNull();
    expect(publish.Next).toBe(S.videoStored);
    expect(retriersOf(publish).length).toBeGreaterThan(0);
    expect(catchersOf(publish)).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: S.videoStored }),
    ]);
    expect(stateOf(definition, S.videoStored)).toEqual({ Type: 'Succeed' });
  });
});

describe('the failure path', () => {
  it('records the failure (idempotent, so retried on anything) into $.outcome', () => {
    const record = stateOf(definition, S.recordFailure);
    expect(invokedFunction(record)).toBe(functionLogicalId('record-failure'));
    // The whole state: `$.poll` (the poll count) is absent when Submit failed, and a path to a missing
    // field would fail the state itself.
    expect(record.Parameters).toBeUndefined();
    expect(record.InputPath ?? '$').toBe('$');
    expect(record.ResultPath).toBe('$.outcome');
    expect(record.Next).toBe(S.publishFailed);
    const retriers = retriersOf(record);
    expect(retriers.at(-1)?.ErrorEquals).toEqual(['States.ALL']);
  });

  it('fails the execution directly when even the failure cannot be recorded', () => {
    const record = stateOf(definition, S.recordFailure);
    expect(catchersOf(record)).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: S.failureNotRecorded }),
    ]);
    expect(catchersOf(record)[0]?.ResultPath).not.toBe('$.failure');
    expect(stateOf(definition, S.failureNotRecorded)).toEqual({
      Type: 'Fail',
      ErrorPath: '$.failure.Error',
      CausePath: '$.failure.Cause',
    });
  });

  it('publishes "Video Generation Failed" and then fails with the recorded error code and message', () => {
    const publish = stateOf(definition, S.publishFailed);
    expect(publish.Parameters).toEqual({
      Entries: [
        expect.objectContaining({
          Source: VIDEO_JOB_EVENTS.source,
          DetailType: 'Video Generation Failed',
          Detail: { 'jobId.$': '$.jobId', 'outcome.$': '$.outcome' },
        }),
      ],
    });
    expect(publish.Next).toBe(S.videoJobFailed);
    expect(catchersOf(publish)).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: S.videoJobFailed }),
    ]);
    expect(stateOf(definition, S.videoJobFailed)).toEqual({
      Type: 'Fail',
      ErrorPath: '$.outcome.errorCode',
      CausePath: '$.outcome.errorMessage',
    });
  });
});

describe('the state machine resource', () => {
  it('is a Standard workflow, traced, logging every event without execution data (no presigned URLs)', () => {
    app.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
  });
});
