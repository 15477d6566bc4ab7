// The VideoJob state machine, its five Lambdas and the events it publishes: one job, from a validated
// request to a stored video (or a recorded failure). Written in JSONPath: the local interpreter runs the
// very same synthesized definition and supports neither JSONata nor variables.
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  type CatchProps,
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  type RetryProps,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import {
  DynamoAttributeValue,
  DynamoReturnValues,
  DynamoUpdateItem,
  EventBridgePutEvents,
  LambdaInvoke,
} from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, type IConstruct } from 'constructs';
import { VIDEO_STAGING_PREFIX } from '#adapters/video-upload';
import { ENV } from '#commons/env';
import { VIDEO_JOB_EVENTS } from '#commons/job-events';
import { parseHostList } from '#domain/url-safety';
import { handlerEntry, type VideoJobHandler } from '#infra/constructs/handlers';
import type { SegmindApiKey } from '#infra/constructs/secrets';
import { VIDEOS_PREFIX } from '#infra/constructs/storage';
import { VideoFunction } from '#infra/constructs/video-function';

/** The events the workflow publishes, for rules that consume them (named in #commons/job-events). */
export { VIDEO_JOB_EVENTS };

/** State names: the contract with the local runner (wait/retry overrides) and the tests. */
export const VIDEO_JOB_STATES = {
  submit: 'Submit',
  isSubmitAdmitted: 'IsSubmitAdmitted',
  waitForRateBudget: 'WaitForRateBudget',
  waitForFirstPoll: 'WaitForFirstPoll',
  pollStatus: 'PollStatus',
  isVideoReady: 'IsVideoReady',
  waitForNextPoll: 'WaitForNextPoll',
  fetchResult: 'FetchResult',
  isResultFetched: 'IsResultFetched',
  waitToFetchResult: 'WaitToFetchResult',
  storeVideo: 'StoreVideo',
  isVideoStored: 'IsVideoStored',
  waitToDownloadAgain: 'WaitToDownloadAgain',
  recordCompletion: 'RecordCompletion',
  publishSucceeded: 'PublishSucceeded',
  videoStored: 'VideoStored',
  segmindReportedFailure: 'SegmindReportedFailure',
  recordFailure: 'RecordFailure',
  publishFailed: 'PublishFailed',
  videoJobFailed: 'VideoJobFailed',
  failureNotRecorded: 'FailureNotRecorded',
} as const;

export interface VideoJobWorkflowProps {
  readonly jobs: ITable;
  readonly videos: IBucket;
  readonly segmindApiKey: SegmindApiKey;
  /** The shared Segmind request budget (#adapters/request-budget), drawn on by every Segmind request. */
  readonly requestBudget: ITable;
  /** Segmind requests per minute per key for all jobs together. @default the functions' own (50, Segmind Pro) */
  readonly segmindRequestsPerMinute?: number;
  /**
   * Where the job events go. @default the account's default bus: it needs no resource of ours, and rules
   * for AWS's own events (S3, Step Functions status changes) already live there, next to ours.
   */
  readonly eventBus?: IEventBus;
  /** Overrides the Segmind endpoint the functions call (their own default is the real service). */
  readonly segmindBaseUrl?: string;
  /**
   * `host:port` pairs the video download may fetch from besides the Segmind origin (always allowed) and
   * public https hosts: e.g. the file host of a proxy in front of Segmind. @default none
   */
  readonly allowedVideoHosts?: readonly string[];
  /** Backstop for a whole execution; the polling policy's own deadline fires long before it. @default 2 h */
  readonly timeout?: Duration;
}

interface FunctionSpec {
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** DynamoDB item actions on the jobs table (the table itself, not its indexes). */
  readonly tableActions: readonly string[];
  readonly callsSegmind: boolean;
}

const FUNCTIONS: Record<VideoJobHandler, FunctionSpec> = {
  submit: {
    description: 'VideoJob: claim the job and POST it to Segmind, at most once',
    memorySize: 256,
    timeout: Duration.seconds(30),
    // PutItem: an execution started without a record (a batch child) gets one created by submit.
    tableActions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    callsSegmind: true,
  },
  'poll-status': {
    description: "VideoJob: read Segmind's status and decide when to poll next",
    memorySize: 256,
    timeout: Duration.seconds(30),
    tableActions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    callsSegmind: true,
  },
  'fetch-result': {
    description: "VideoJob: read Segmind's result (video URL, metrics)",
    memorySize: 256,
    timeout: Duration.seconds(30),
    tableActions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    callsSegmind: true,
  },
  'store-video': {
    description: 'VideoJob: stream the video into S3 (multipart, checksummed)',
    // Memory buys network throughput and room for the multipart buffers; the copy of a 4k video must fit
    // the timeout even when Segmind's CDN is slow.
    memorySize: 1024,
    timeout: Duration.minutes(10),
    tableActions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    callsSegmind: false,
  },
  'record-failure': {
    description: 'VideoJob: record the terminal failure on the job',
    memorySize: 256,
    timeout: Duration.seconds(30),
    tableActions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    callsSegmind: false,
  },
};

/** A Task's own limit sits above its function's so that the Lambda's timeout (with its logs) fires first. */
const taskTimeout = (fn: FunctionSpec): Timeout => Timeout.duration(fn.timeout.plus(Duration.seconds(30)));

/** Lambda throttling: the function never ran, so another attempt is always safe. */
const LAMBDA_THROTTLED: RetryProps = {
  errors: ['Lambda.TooManyRequestsException'],
  interval: Duration.seconds(2),
  maxAttempts: 6,
  backoffRate: 2,
  maxDelay: Duration.seconds(30),
  jitterStrategy: JitterType.FULL,
};

/** Reading the Segmind key from Secrets Manager failed (#commons/segmind-key): before any request left. */
const SEGMIND_KEY_ERROR = 'SegmindKeyError';

/** The only Step Functions retry left on the Segmind steps that only read: everything else is a RetryLater. */
const SEGMIND_KEY_RETRY: RetryProps = {
  errors: [SEGMIND_KEY_ERROR],
  interval: Duration.seconds(5),
  maxAttempts: 4,
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  jitterStrategy: JitterType.FULL,
};

/** Taking a request-budget slot lost too many races (#domain/errors): before any request left. */
const BUDGET_CONTENTION_RETRY: RetryProps = {
  errors: ['RequestBudgetContentionError'],
  interval: Duration.seconds(1),
  maxAttempts: 4,
  backoffRate: 2,
  maxDelay: Duration.seconds(10),
  jitterStrategy: JitterType.FULL,
};

const TO_RECORD_FAILURE: CatchProps = { errors: [Errors.ALL], resultPath: '$.failure' };

export class VideoJobWorkflow extends Construct {
  readonly functions: Readonly<Record<VideoJobHandler, VideoFunction>>;
  readonly stateMachine: StateMachine;
  readonly eventBus: IEventBus;

  constructor(scope: Construct, id: string, props: VideoJobWorkflowProps) {
    super(scope, id);
    const { jobs, videos, segmindApiKey, requestBudget } = props;
    this.eventBus = props.eventBus ?? EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    const makeFunction = (name: VideoJobHandler, constructId: string): VideoFunction => {
      const spec = FUNCTIONS[name];
      const fn = new VideoFunction(this, constructId, {
        entry: handlerEntry(name),
        description: spec.description,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        environment: {
          [ENV.jobsTable]: jobs.tableName,
          ...(spec.callsSegmind ? { [ENV.segmindApiKeySecret]: segmindApiKey.secretId } : {}),
          ...(spec.callsSegmind && props.segmindBaseUrl !== undefined
            ? { [ENV.segmindBaseUrl]: props.segmindBaseUrl }
            : {}),
          ...(spec.callsSegmind ? { [ENV.requestBudgetTable]: requestBudget.tableName } : {}),
          ...(spec.callsSegmind && props.segmindRequestsPerMinute !== undefined
            ? { [ENV.segmindRequestsPerMinute]: String(props.segmindRequestsPerMinute) }
            : {}),
        },
      });
      grantItemActions(jobs, fn, spec.tableActions);
      if (spec.callsSegmind) {
        segmindApiKey.grantRead(fn);
        grantItemActions(requestBudget, fn, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      }
      Validations.of(fn).acknowledge(
        {
          id: 'Serverless-LambdaDLQ',
          reason:
            'Invoked synchronously by the state machine, never asynchronously: a failure returns to the ' +
            'workflow, whose Catch records it on the job. A DLQ would never receive anything.',
        },
        {
          id: 'Serverless-LambdaAsyncFailureDestination',
          reason: 'Invoked synchronously by the state machine; failures are caught and recorded by it.',
        },
      );
      return fn;
    };

    const functions = {
      submit: makeFunction('submit', 'SubmitFunction'),
      'poll-status': makeFunction('poll-status', 'PollStatusFunction'),
      'fetch-result': makeFunction('fetch-result', 'FetchResultFunction'),
      'store-video': makeFunction('store-video', 'StoreVideoFunction'),
      'record-failure': makeFunction('record-failure', 'RecordFailureFunction'),
    } as const;
    this.functions = functions;

    // store-video streams into a staging key (multipart), copies the verified object to its final key under
    // videos/, then deletes the staged version: that and nothing else, object by object.
    const storeVideoFn = functions['store-video'];
    storeVideoFn.addEnvironment(ENV.videosBucket, videos.bucketName);
    // The download's allow list derives from the Segmind origin plus these hosts; Submit parses the same
    // settings at load, so a configuration the download would refuse fails before anything is billed.
    if (props.segmindBaseUrl !== undefined)
      storeVideoFn.addEnvironment(ENV.segmindBaseUrl, props.segmindBaseUrl);
    if (props.allowedVideoHosts !== undefined && props.allowedVideoHosts.length > 0) {
      const hosts = props.allowedVideoHosts.join(',');
      parseHostList(hosts, 'VideoJobWorkflow allowedVideoHosts');
      for (const fn of [functions.submit, storeVideoFn]) fn.addEnvironment(ENV.allowedVideoHosts, hosts);
    }
    Grant.addToPrincipal({
      grantee: storeVideoFn,
      actions: [
        's3:PutObject',
        's3:AbortMultipartUpload',
        's3:GetObject',
        's3:GetObjectVersion',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
      ],
      resourceArns: [videos.arnForObjects(`${VIDEO_STAGING_PREFIX}*`)],
    });
    Grant.addToPrincipal({
      grantee: storeVideoFn,
      actions: ['s3:PutObject'],
      resourceArns: [videos.arnForObjects(`${VIDEOS_PREFIX}*`)],
    });
    // The grants land in the role's policy, a sibling of the function: acknowledge there. (An imported
    // bucket would be named differently in the finding; it gets no acknowledgement by default.)
    const videosId = resourceIdOf(videos);
    if (videosId !== undefined) {
      Validations.of(storeVideoFn.role ?? storeVideoFn).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::<${videosId}.Arn>/${VIDEO_STAGING_PREFIX}*]`,
          reason:
            'Object-level access to the staging prefix: one random staging key per copy, unknown at deploy time.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::<${videosId}.Arn>/${VIDEOS_PREFIX}*]`,
          reason: 'PutObject under videos/: one key per job, unknown at deploy time.',
        },
      );
    }

    this.stateMachine = this.buildStateMachine(functions, jobs, props.timeout ?? Duration.hours(2));
  }

  private buildStateMachine(
    fns: Readonly<Record<VideoJobHandler, VideoFunction>>,
    jobs: ITable,
    timeout: Duration,
  ): StateMachine {
    const S = VIDEO_JOB_STATES;
    const invoke = (
      name: VideoJobHandler,
      stateName: string,
      payload: TaskInput | undefined,
      resultPath: string,
    ) =>
      new LambdaInvoke(this, stateName, {
        lambdaFunction: fns[name],
        // The handler's return value lands at resultPath as is (no {Payload, StatusCode} envelope), so
        // handlers may return optional fields that a ResultSelector could not pass through.
        payloadResponseOnly: true,
        ...(payload === undefined ? {} : { payload }),
        resultPath,
        taskTimeout: taskTimeout(FUNCTIONS[name]),
        // Kept: CDK's retry on Lambda service errors (Lambda.ServiceException, AWSLambdaException,
        // SdkClientException, ClientExecutionTimeoutException). Such an error may come after the handler
        // ran, but every handler is idempotent on the job record: submit claims the job in DynamoDB
        // before its one POST, so a re-run finds the claim and never POSTs twice.
        retryOnServiceExceptions: true,
      }).addRetry(LAMBDA_THROTTLED);

    /*
     * Data shape (JSONPath; each Task writes under its own key, nothing is dropped):
     *   $            = { jobId, request }                        execution input; execution name = jobId
     *   $.segmind    = { requestId, statusUrl, responseUrl, submittedAt, firstPollAt }   ← Submit
     *                | { budget: { retryAt, ticket?, place?, reservedAt? } }   ← Submit, waiting for the budget
     *   $.poll       = { status, pollCount, nextPollAt, strikes, error?, retryReason?, retryDetail?, budget? }
     *                                                                                   ← PollStatus
     *   $.result     = { videoUrl, fileSize?, contentType?, metrics }                   ← FetchResult
     *                | RetryLater
     *   $.video      = { bucket, key, bytes, sha256, contentType }                      ← StoreVideo
     *                | RetryLater
     *   RetryLater   = { retryAt, reason, attempt, detail }     (#domain/retry-later) "try again at retryAt":
     *                  reason is rate-limited | upstream-unavailable | result-not-ready | video-transfer-failed
     *                  | video-invalid | any reason a step adds; the Lambda fails the job at the deadline.
     *   $.failure    = { Error, Cause }            ← any Catch, or SegmindReportedFailure
     *   $.outcome    = { status, errorCode, errorMessage }       ← RecordFailure (given the whole state)
     *
     * Submit → IsSubmitAdmitted ─ budget → WaitForRateBudget → Submit
     *                           └ otherwise → WaitForFirstPoll → PollStatus → IsVideoReady
     *   IsVideoReady ─ COMPLETED → FetchResult → IsResultFetched
     *                          ├ FAILED → SegmindReportedFailure → RecordFailure → PublishFailed → VideoJobFailed
     *                          └ otherwise → WaitForNextPoll → PollStatus
     * IsResultFetched ─ retryAt → WaitToFetchResult → FetchResult
     *                 └ otherwise → StoreVideo → IsVideoStored ─ retryAt → WaitToDownloadAgain → FetchResult
     *                                                          └ otherwise → RecordCompletion → PublishSucceeded → VideoStored
     * Every Task catches States.ALL into RecordFailure, so the job record always ends terminal.
     */

    // Only errors that prove Segmind created no job are retried: every POST is billed and Segmind has no
    // idempotency key. An ambiguous failure arrives as SubmitOutcomeUnknownError and is not retried.
    // SegmindKeyError (Secrets Manager unreachable or throttled) is raised before any request leaves.
    const submit = invoke('submit', S.submit, undefined, '$.segmind')
      .addRetry({
        errors: [
          'SegmindUnavailableError',
          'SegmindTimeoutError',
          'SegmindMalformedResponseError',
          SEGMIND_KEY_ERROR,
        ],
        interval: Duration.seconds(3),
        maxAttempts: 4,
        backoffRate: 2,
        maxDelay: Duration.seconds(30),
        jitterStrategy: JitterType.FULL,
      })
      // Segmind's limit counts requests per minute: back off on a minute's scale, not a few seconds.
      .addRetry({
        errors: ['SegmindRateLimitedError'],
        interval: Duration.seconds(10),
        maxAttempts: 4,
        backoffRate: 2,
        maxDelay: Duration.seconds(60),
        jitterStrategy: JitterType.FULL,
      })
      .addRetry(BUDGET_CONTENTION_RETRY);

    const waitForFirstPoll = new Wait(this, S.waitForFirstPoll, {
      time: WaitTime.timestampPath('$.segmind.firstPollAt'),
    });

    // No slot of the shared request budget for this submit yet (or a reserved one ahead): Submit returned
    // `$.segmind.budget` instead of a request id. Wait until the time it computed, then ask again; Submit
    // reads the ticket (its place in line) or the reservation back from `$.segmind.budget`.
    const waitForRateBudget = new Wait(this, S.waitForRateBudget, {
      time: WaitTime.timestampPath('$.segmind.budget.retryAt'),
    });
    const isSubmitAdmitted = new Choice(this, S.isSubmitAdmitted)
      .when(Condition.isPresent('$.segmind.budget'), waitForRateBudget.next(submit))
      .otherwise(waitForFirstPoll);

    // A 429, 5xx, timeout or unreadable answer on a status check is not an error: poll-status turns it into
    // a later nextPollAt (the polling policy's backoff and deadline). Only the key read is retried here.
    const pollStatus = invoke('poll-status', S.pollStatus, undefined, '$.poll')
      .addRetry(SEGMIND_KEY_RETRY)
      .addRetry(BUDGET_CONTENTION_RETRY);

    const waitForNextPoll = new Wait(this, S.waitForNextPoll, {
      time: WaitTime.timestampPath('$.poll.nextPollAt'),
    });

    // FetchResult and StoreVideo get the whole state: their own previous answer (`$.result`, `$.video`), when
    // it was a RetryLater, carries the attempt count, and a JSONPath to a field that is absent would fail.
    const fetchResult = invoke('fetch-result', S.fetchResult, undefined, '$.result').addRetry(
      SEGMIND_KEY_RETRY,
    );
    const waitToFetchResult = new Wait(this, S.waitToFetchResult, {
      time: WaitTime.timestampPath('$.result.retryAt'),
    });

    const storeVideo = invoke('store-video', S.storeVideo, undefined, '$.video');
    const waitToDownloadAgain = new Wait(this, S.waitToDownloadAgain, {
      time: WaitTime.timestampPath('$.video.retryAt'),
    });

    // A direct DynamoDB write: no Lambda cold start for one conditional update. The condition makes it
    // exact: only a job that store-video moved to STORING (not cancelled meanwhile) becomes COMPLETED.
    // lastSegmindStatus is set too (polls write it only on change, and the COMPLETED poll writes nothing),
    // and an error left by an earlier, retried submit attempt does not survive on a completed job.
    const videoAttribute = (path: string) =>
      DynamoAttributeValue.fromString(JsonPath.stringAt(`$.video.${path}`));
    const recordCompletion = new DynamoUpdateItem(this, S.recordCompletion, {
      table: jobs,
      key: { jobId: DynamoAttributeValue.fromString(JsonPath.stringAt('$.jobId')) },
      updateExpression:
        'SET #status = :completed, #video = :video, #completedAt = :now, #updatedAt = :now, ' +
        '#pollCount = :pollCount, #lastSegmindStatus = :completed REMOVE #errorCode, #errorMessage, #waiting',
      conditionExpression: '#status = :storing',
      expressionAttributeNames: {
        '#status': 'status',
        '#video': 'video',
        '#completedAt': 'completedAt',
        '#updatedAt': 'updatedAt',
        '#pollCount': 'pollCount',
        '#lastSegmindStatus': 'lastSegmindStatus',
        '#errorCode': 'errorCode',
        '#errorMessage': 'errorMessage',
        '#waiting': 'waiting',
      },
      expressionAttributeValues: {
        ':completed': DynamoAttributeValue.fromString('COMPLETED'),
        ':storing': DynamoAttributeValue.fromString('STORING'),
        ':video': DynamoAttributeValue.fromMap({
          bucket: videoAttribute('bucket'),
          key: videoAttribute('key'),
          bytes: DynamoAttributeValue.numberFromString(
            JsonPath.format('{}', JsonPath.stringAt('$.video.bytes')),
          ),
          sha256: videoAttribute('sha256'),
          contentType: videoAttribute('contentType'),
        }),
        ':now': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.State.EnteredTime')),
        ':pollCount': DynamoAttributeValue.numberFromString(
          JsonPath.format('{}', JsonPath.stringAt('$.poll.pollCount')),
        ),
      },
      returnValues: DynamoReturnValues.NONE,
      resultPath: JsonPath.DISCARD,
      taskTimeout: Timeout.duration(Duration.seconds(30)),
    }).addRetry({
      errors: [
        'DynamoDB.ProvisionedThroughputExceededException',
        'DynamoDB.ThrottlingException',
        'DynamoDB.RequestLimitExceeded',
        'DynamoDB.InternalServerErrorException',
      ],
      interval: Duration.seconds(1),
      maxAttempts: 5,
      backoffRate: 2,
      maxDelay: Duration.seconds(20),
      jitterStrategy: JitterType.FULL,
    });

    const publish = (stateName: string, detailType: string, detail: Record<string, unknown>) =>
      new EventBridgePutEvents(this, stateName, {
        entries: [
          {
            eventBus: this.eventBus,
            source: VIDEO_JOB_EVENTS.source,
            detailType,
            detail: TaskInput.fromObject(detail),
          },
        ],
        resultPath: JsonPath.DISCARD,
        taskTimeout: Timeout.duration(Duration.seconds(30)),
      }).addRetry({
        // Events are delivered at least once anyway (consumers key on jobId), so a repeat is harmless.
        errors: [Errors.ALL],
        interval: Duration.seconds(2),
        maxAttempts: 3,
        backoffRate: 2,
        jitterStrategy: JitterType.FULL,
      });

    const publishSucceeded = publish(S.publishSucceeded, VIDEO_JOB_EVENTS.succeeded, {
      jobId: JsonPath.stringAt('$.jobId'),
      video: JsonPath.objectAt('$.video'),
    });
    const videoStored = new Succeed(this, S.videoStored);
    // The video is stored and recorded: an undelivered event must not turn the job into a failure.
    publishSucceeded.addCatch(videoStored, { errors: [Errors.ALL], resultPath: '$.publishError' });

    const segmindReportedFailure = new Pass(this, S.segmindReportedFailure, {
      parameters: { Error: 'SegmindJobFailedError', Cause: JsonPath.stringAt('$.poll.error') },
      resultPath: '$.failure',
    });

    // The whole state, not picked paths: `$.poll` is absent when Submit failed, and a JSONPath to a missing
    // field would fail this very state. The handler reads jobId, failure and, when present, poll.pollCount.
    const recordFailure = invoke('record-failure', S.recordFailure, undefined, '$.outcome').addRetry({
      // Idempotent (a terminal status is written once, conditionally): any error is worth another try.
      errors: [Errors.ALL],
      interval: Duration.seconds(2),
      maxAttempts: 4,
      backoffRate: 2,
      maxDelay: Duration.seconds(30),
      jitterStrategy: JitterType.FULL,
    });
    // The record could not be written: fail with the job's own error; the history shows why it stuck.
    const failureNotRecorded = new Fail(this, S.failureNotRecorded, {
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
    });
    recordFailure.addCatch(failureNotRecorded, { errors: [Errors.ALL], resultPath: '$.recordFailureError' });

    const publishFailed = publish(S.publishFailed, VIDEO_JOB_EVENTS.failed, {
      jobId: JsonPath.stringAt('$.jobId'),
      outcome: JsonPath.objectAt('$.outcome'),
    });
    const videoJobFailed = new Fail(this, S.videoJobFailed, {
      errorPath: '$.outcome.errorCode',
      causePath: '$.outcome.errorMessage',
    });
    publishFailed.addCatch(videoJobFailed, { errors: [Errors.ALL], resultPath: '$.publishError' });

    for (const task of [submit, pollStatus, fetchResult, storeVideo, recordCompletion]) {
      task.addCatch(recordFailure, TO_RECORD_FAILURE);
    }

    // "Try again at T" (a RetryLater with `retryAt`) loops through a Wait; the Lambdas end the loop at the
    // retention deadline by failing, so no count is kept here.
    const isVideoStored = new Choice(this, S.isVideoStored)
      .when(Condition.isPresent('$.video.retryAt'), waitToDownloadAgain.next(fetchResult))
      .otherwise(recordCompletion.next(publishSucceeded).next(videoStored));
    const isResultFetched = new Choice(this, S.isResultFetched)
      .when(Condition.isPresent('$.result.retryAt'), waitToFetchResult.next(fetchResult))
      .otherwise(storeVideo.next(isVideoStored));
    fetchResult.next(isResultFetched);

    const isVideoReady = new Choice(this, S.isVideoReady)
      .when(Condition.stringEquals('$.poll.status', 'COMPLETED'), fetchResult)
      .when(Condition.stringEquals('$.poll.status', 'FAILED'), segmindReportedFailure.next(recordFailure))
      .otherwise(waitForNextPoll.next(pollStatus));
    recordFailure.next(publishFailed).next(videoJobFailed);

    waitForFirstPoll.next(pollStatus).next(isVideoReady);
    const definition = submit.next(isSubmitAdmitted);

    const logs = new LogGroup(this, 'ExecutionLogs', { retention: RetentionDays.ONE_MONTH });
    const stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'VideoJob: one prompt (and image) to one stored video, or one recorded failure',
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      timeout,
      tracingEnabled: true,
      // Every state transition, none of its data: inputs carry presigned image URLs and Segmind's video URL.
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
    Validations.of(stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Generated by CDK for execution logging (logs:*LogDelivery*, DescribeLogGroups, ' +
          'DescribeResourcePolicies, PutResourcePolicy) and X-Ray: these actions accept only "*".',
      },
      ...Object.values(fns).map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${resourceIdOf(fn) ?? fn.node.id}.Arn>:*]`,
        reason:
          'Generated by CDK: lambda:InvokeFunction on the function and its versions/aliases, nothing else.',
      })),
    );
    return stateMachine;
  }
}

/** The logical id of a resource's CloudFormation element, as cdk-nag names it in finding ids. */
const resourceIdOf = (construct: IConstruct): string | undefined => {
  const element = construct.node.defaultChild;
  return element instanceof CfnElement ? Stack.of(construct).getLogicalId(element) : undefined;
};

/** Item-level actions on the table only: none of these functions queries an index. */
const grantItemActions = (table: ITable, grantee: IGrantable, actions: readonly string[]): void => {
  Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [table.tableArn] });
};
