// Scheduled batches: an EventBridge Scheduler schedule (optional) starts the batch state machine, which
// prepares the manifest (PrepareBatch), runs one child VideoJob execution per line in a Distributed Map
// (at most maxConcurrency at once, each named after its job: batch + line) and writes the summary
// (SummarizeBatch). Written in JSONPath, like the VideoJob workflow, so the local runner can run it.
import { CfnElement, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution as StartExecutionTarget } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Errors,
  Fail,
  IntegrationPattern,
  type IStateMachine,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  type RetryProps,
  S3JsonLItemReader,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '#commons/env';
import { sizeBatchConcurrency } from '#domain/batch-concurrency';
import { BATCHES_PREFIX, MANIFESTS_PREFIX } from '#domain/batch-manifest';
import { handlerEntry } from '#infra/constructs/handlers';
import { VideoFunction } from '#infra/constructs/video-function';

/** State names: the contract with the local runner and the tests. */
export const BATCH_STATES = {
  prepareBatch: 'PrepareBatch',
  runBatchLines: 'RunBatchLines',
  isLineRunnable: 'IsLineRunnable',
  startVideoJob: 'StartVideoJob',
  lineJobEnded: 'LineJobEnded',
  lineRanBefore: 'LineRanBefore',
  lineJobFailed: 'LineJobFailed',
  lineRejected: 'LineRejected',
  summarizeBatch: 'SummarizeBatch',
  didEveryLineEnd: 'DidEveryLineEnd',
  batchIncomplete: 'BatchIncomplete',
  batchDone: 'BatchDone',
} as const;

/** Step Functions' error when a child execution of that name already exists (a rerun of the batch). */
export const EXECUTION_ALREADY_EXISTS = 'StepFunctions.ExecutionAlreadyExistsException';

export interface BatchScheduleProps {
  /**
   * When batches run: an EventBridge Scheduler expression (`cron(0 9 * * ? *)`, `rate(1 day)`), or the six
   * fields of a cron expression alone (`0 9 * * ? *`).
   */
  readonly expression: string;
  /** The IANA time zone the expression is read in, e.g. `Europe/Paris`. @default 'UTC' */
  readonly timeZone?: string;
  /** The manifest every run reads: a key under `manifests/` in the videos bucket. */
  readonly manifestKey: string;
  /** @default true */
  readonly enabled?: boolean;
}

export interface VideoBatchProps {
  readonly jobs: ITable;
  /** Holds the manifests (`manifests/`) and each batch's files (`batches/<batchId>/`). */
  readonly videos: IBucket;
  /** The VideoJob state machine: one child execution per runnable line. */
  readonly videoJob: IStateMachine;
  /** Child executions in flight at once; size it to Segmind's rate limit (see #domain/batch-concurrency). */
  readonly maxConcurrency: number;
  /** Runs batches on a schedule. @default no schedule: start the state machine yourself */
  readonly schedule?: BatchScheduleProps;
  /** How long one VideoJob execution may take (its own timeout). @default 2 hours */
  readonly videoJobTimeout?: Duration;
  /** Backstop for a whole batch. @default 3 days (5,000 lines at 3 in flight take about 1.5 days) */
  readonly timeout?: Duration;
}

/** A schedule expression as Scheduler takes it; six bare cron fields are wrapped in `cron(…)`. */
export const scheduleExpressionOf = (expression: string): string => {
  const text = expression.trim();
  if (/^(cron|rate|at)\(.+\)$/.test(text)) return text;
  if (text.split(/\s+/).length === 6) return `cron(${text})`;
  throw new Error(
    `batch schedule: expected cron(…), rate(…) or the six fields of a cron expression, got "${expression}"`,
  );
};

const checkedTimeZone = (timeZone: string): string => {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new Error(`batch schedule: ${timeZone} is not an IANA time zone (e.g. Europe/Paris, UTC)`);
  }
  return timeZone;
};

/** Lambda throttling: the function never ran, another attempt is safe (CDK already retries service errors). */
const LAMBDA_THROTTLED: RetryProps = {
  errors: ['Lambda.TooManyRequestsException'],
  interval: Duration.seconds(2),
  maxAttempts: 5,
  backoffRate: 2,
  maxDelay: Duration.seconds(30),
  jitterStrategy: JitterType.FULL,
};

export class VideoBatch extends Construct {
  /** One item per batch, keyed by `batchId`: status, counts, the first failures, where the summary is. */
  readonly batches: Table;
  readonly prepareFunction: VideoFunction;
  readonly summarizeFunction: VideoFunction;
  readonly stateMachine: StateMachine;
  readonly schedule?: Schedule;
  readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: VideoBatchProps) {
    super(scope, id);
    const { jobs, videos, videoJob } = props;
    if (
      !Number.isInteger(props.maxConcurrency) ||
      props.maxConcurrency < 1 ||
      props.maxConcurrency > 10_000
    ) {
      throw new Error(`maxConcurrency must be an integer from 1 to 10000, got ${props.maxConcurrency}`);
    }
    this.maxConcurrency = props.maxConcurrency;
    const scheduleExpression = props.schedule && scheduleExpressionOf(props.schedule.expression);
    const timeZone = props.schedule && checkedTimeZone(props.schedule.timeZone ?? 'UTC');
    if (props.schedule && !props.schedule.manifestKey.startsWith(MANIFESTS_PREFIX)) {
      throw new Error(
        `batch schedule: manifestKey must be under ${MANIFESTS_PREFIX}, got ${props.schedule.manifestKey}`,
      );
    }

    // Same secure defaults as the jobs table (see Storage).
    this.batches = new Table(this, 'Batches', {
      partitionKey: { name: 'batchId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const environment = {
      [ENV.jobsTable]: jobs.tableName,
      [ENV.batchesTable]: this.batches.tableName,
      [ENV.videosBucket]: videos.bucketName,
    };
    this.prepareFunction = this.makeFunction('PrepareFunction', 'prepare-batch', {
      description: 'Batch: validate the manifest, write the lines file, mark the batch RUNNING',
      // Streams the manifest; the lines file (up to 5,000 requests) is built in memory.
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment,
    });
    this.summarizeFunction = this.makeFunction('SummarizeFunction', 'summarize-batch', {
      description: 'Batch: read every line’s job record, write the summary to S3 and the batch record',
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment,
    });

    // Least privilege, object by object: manifests are read, batch files written and read back; the
    // batches table is updated item by item; job records are only read, in bulk.
    const objects = (prefix: string) => videos.arnForObjects(`${prefix}*`);
    grant(this.prepareFunction, ['s3:GetObject', 's3:GetObjectVersion'], [objects(MANIFESTS_PREFIX)]);
    grant(this.prepareFunction, ['s3:PutObject'], [objects(BATCHES_PREFIX)]);
    grant(this.prepareFunction, ['dynamodb:UpdateItem'], [this.batches.tableArn]);
    grant(this.summarizeFunction, ['s3:GetObject', 's3:PutObject'], [objects(BATCHES_PREFIX)]);
    grant(this.summarizeFunction, ['dynamodb:BatchGetItem'], [jobs.tableArn]);
    grant(this.summarizeFunction, ['dynamodb:UpdateItem'], [this.batches.tableArn]);
    const videosId = logicalIdOf(videos);
    if (videosId !== undefined) {
      for (const [fn, prefixes] of [
        [this.prepareFunction, [MANIFESTS_PREFIX, BATCHES_PREFIX]],
        [this.summarizeFunction, [BATCHES_PREFIX]],
      ] as const) {
        Validations.of(fn.role ?? fn).acknowledge(
          ...prefixes.map((prefix) => ({
            id: `AwsSolutions-IAM5[Resource::<${videosId}.Arn>/${prefix}*]`,
            reason: `Object-level access under ${prefix}: one manifest or batch file per batch, named at run time.`,
          })),
        );
      }
    }

    this.stateMachine = this.buildStateMachine(props);
    Grant.addToPrincipal({
      grantee: this.stateMachine,
      // The Distributed Map's ItemReader reads the lines file PrepareBatch wrote; nothing else.
      actions: ['s3:GetObject'],
      resourceArns: [videos.arnForObjects(`${BATCHES_PREFIX}*/lines.jsonl`)],
    });
    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Generated by CDK for execution logging (logs:*LogDelivery*, DescribeLogGroups, ' +
          'DescribeResourcePolicies, PutResourcePolicy) and X-Ray: these actions accept only "*".',
      },
      ...[this.prepareFunction, this.summarizeFunction].map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn) ?? fn.node.id}.Arn>:*]`,
        reason:
          'Generated by CDK: lambda:InvokeFunction on the function and its versions/aliases, nothing else.',
      })),
      ...(videosId === undefined
        ? []
        : [
            {
              id: `AwsSolutions-IAM5[Resource::<${videosId}.Arn>/${BATCHES_PREFIX}*/lines.jsonl]`,
              reason: 'The ItemReader reads each batch’s lines file; the batch id is known only at run time.',
            },
          ]),
      {
        id: `AwsSolutions-IAM5[Resource::${executionsOf(logicalIdOf(videoJob) ?? videoJob.node.id)}*]`,
        reason:
          'Generated by CDK for startExecution.sync: DescribeExecution/StopExecution on the VideoJob ' +
          'executions the batch starts, named after their jobs at run time.',
      },
      ...[':*', '/BatchLines:*'].map((suffix) => ({
        id: `AwsSolutions-IAM5[Resource::${executionsOf(logicalIdOf(this.stateMachine) ?? 'StateMachine')}${suffix}]`,
        reason:
          'Generated by CDK for the Distributed Map: it starts, describes, stops and redrives the child ' +
          'executions of its own Map Runs, whose names Step Functions generates.',
      })),
    );

    if (props.schedule && scheduleExpression && timeZone) {
      this.schedule = new Schedule(this, 'Schedule', {
        description: `Runs a video batch over s3://…/${props.schedule.manifestKey}`,
        schedule: ScheduleExpression.expression(scheduleExpression, TimeZone.of(timeZone)),
        enabled: props.schedule.enabled ?? true,
        target: new StartExecutionTarget(this.stateMachine, {
          // The scheduled time names the batch: a delivery Scheduler repeats starts the same children,
          // which Step Functions then refuses to run twice.
          input: ScheduleTargetInput.fromObject({
            batchId: ContextAttribute.scheduledTime,
            manifest: { bucket: videos.bucketName, key: props.schedule.manifestKey },
          }),
          retryAttempts: 5,
          maxEventAge: Duration.hours(2),
        }),
      });
    }
  }

  private makeFunction(id: string, handler: string, props: BatchFunctionProps): VideoFunction {
    const fn = new VideoFunction(this, id, { entry: handlerEntry(handler), ...props });
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked synchronously by the batch state machine, never asynchronously: a failure returns to the ' +
        'workflow. A DLQ would never receive anything.',
    });
    return fn;
  }

  private buildStateMachine(props: VideoBatchProps): StateMachine {
    const S = BATCH_STATES;
    const videoJobTimeout = props.videoJobTimeout ?? Duration.hours(2);

    /*
     * Data (JSONPath), execution input {batchId?, manifest: {bucket, key, versionId?}}:
     *   $.batch      = { batchId, manifest, lines: {bucket, key}, lineCount, runnable, rejected, startedAt }
     *                                                                                    ← PrepareBatch
     *   (the map's results are discarded: every line's outcome is on its job record)
     *   $.mapError   = { Error, Cause }                                  ← the map's Catch, if it failed
     *   $.summary    = { batchId, status, lineCount, counts, failureCount, summary: {bucket, key} }
     *                                                                                    ← SummarizeBatch
     * Each map item: { batchId, line: a row of lines.jsonl: {line, jobId, request} | {line, rejected} }
     *
     * PrepareBatch → RunBatchLines ⟨IsLineRunnable ─ runnable → StartVideoJob → LineJobEnded
     *                                   │                          ├ already exists → LineRanBefore
     *                                   │                          └ failed → LineJobFailed
     *                                   └ rejected → LineRejected⟩
     *   → SummarizeBatch → DidEveryLineEnd ─ INCOMPLETE → BatchIncomplete (Fail) | else → BatchDone
     */
    const prepare = new LambdaInvoke(this, S.prepareBatch, {
      lambdaFunction: this.prepareFunction,
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({
        input: JsonPath.entirePayload,
        executionName: JsonPath.executionName,
      }),
      resultPath: '$.batch',
      taskTimeout: Timeout.duration(Duration.minutes(6)),
    }).addRetry(LAMBDA_THROTTLED);

    const lineNumber = JsonPath.numberAt('$.line.line');
    const jobId = JsonPath.stringAt('$.line.jobId');
    const lineJobEnded = new Pass(this, S.lineJobEnded, {
      parameters: { line: lineNumber, jobId, outcome: 'ended' },
    });
    const lineRanBefore = new Pass(this, S.lineRanBefore, {
      comment:
        'A child of this name exists (a rerun of the batch): nothing new runs; its record is the outcome.',
      parameters: { line: lineNumber, jobId, outcome: 'ran-before' },
    });
    const lineJobFailed = new Pass(this, S.lineJobFailed, {
      comment: 'The child failed: its job record says why (RecordFailure), the summary reports it.',
      parameters: {
        line: lineNumber,
        jobId,
        outcome: 'failed',
        error: JsonPath.stringAt('$.childError.Error'),
      },
    });
    const lineRejected = new Pass(this, S.lineRejected, {
      parameters: { line: lineNumber, outcome: 'rejected' },
    });

    const startVideoJob = new StepFunctionsStartExecution(this, S.startVideoJob, {
      stateMachine: props.videoJob,
      integrationPattern: IntegrationPattern.RUN_JOB,
      // The execution name is the job id: a rerun of the batch names the same children, and a Standard
      // workflow runs a name once — a repeat is ExecutionAlreadyExists, or (same input, still running)
      // the running execution itself, which .sync then waits for.
      name: jobId,
      // Submit creates the job record (with batchId, for the byBatch index) when it does not exist yet.
      input: TaskInput.fromObject({
        jobId,
        request: JsonPath.objectAt('$.line.request'),
        source: 'batch',
        batchId: JsonPath.stringAt('$.batchId'),
      }),
      resultSelector: { status: JsonPath.stringAt('$.Status') },
      resultPath: '$.child',
      // .sync waits for the whole job: longer than the VideoJob's own timeout, so that fires first.
      taskTimeout: Timeout.duration(videoJobTimeout.plus(Duration.minutes(10))),
    })
      .addRetry({
        // Too many open executions in the account: nothing was started, try again later.
        errors: ['StepFunctions.ExecutionLimitExceededException'],
        interval: Duration.seconds(30),
        maxAttempts: 6,
        backoffRate: 2,
        maxDelay: Duration.minutes(5),
        jitterStrategy: JitterType.FULL,
      })
      .addCatch(lineRanBefore, { errors: [EXECUTION_ALREADY_EXISTS], resultPath: '$.childError' })
      .addCatch(lineJobFailed, { errors: [Errors.ALL], resultPath: '$.childError' });

    const isLineRunnable = new Choice(this, S.isLineRunnable)
      .when(Condition.isPresent('$.line.request'), startVideoJob.next(lineJobEnded))
      .otherwise(lineRejected);

    const runLines = new DistributedMap(this, S.runBatchLines, {
      comment: 'One child VideoJob per runnable line of the lines file, at most maxConcurrency at once',
      itemReader: new S3JsonLItemReader({
        bucketNamePath: JsonPath.stringAt('$.batch.lines.bucket'),
        key: JsonPath.stringAt('$.batch.lines.key'),
      }),
      itemSelector: {
        batchId: JsonPath.stringAt('$.batch.batchId'),
        line: JsonPath.objectAt('$$.Map.Item.Value'),
      },
      maxConcurrency: props.maxConcurrency,
      mapExecutionType: StateMachineType.STANDARD,
      label: 'BatchLines',
      // Every item catches its own failure; an item that still fails (a bug) must not stop the others.
      toleratedFailurePercentage: 100,
      resultPath: JsonPath.DISCARD,
    });
    runLines.itemProcessor(isLineRunnable);

    const summarize = new LambdaInvoke(this, S.summarizeBatch, {
      lambdaFunction: this.summarizeFunction,
      payloadResponseOnly: true,
      resultPath: '$.summary',
      taskTimeout: Timeout.duration(Duration.minutes(6)),
    }).addRetry({
      ...LAMBDA_THROTTLED,
      // Idempotent (it rewrites the same summary): any error is worth a few more tries.
      errors: [Errors.ALL],
      maxAttempts: 4,
    });
    runLines.addCatch(summarize, { errors: [Errors.ALL], resultPath: '$.mapError' });

    const didEveryLineEnd = new Choice(this, S.didEveryLineEnd)
      .when(
        Condition.stringEquals('$.summary.status', 'INCOMPLETE'),
        new Fail(this, S.batchIncomplete, {
          error: 'BatchIncompleteError',
          cause:
            'Some lines of the batch did not end; batches/<batchId>/summary.json says which. Start the batch ' +
            'again with the same batchId to finish them: lines that already ran are not run again.',
        }),
      )
      .otherwise(new Succeed(this, S.batchDone));

    const definition = prepare.next(runLines).next(summarize).next(didEveryLineEnd);
    const logs = new LogGroup(this, 'ExecutionLogs', { retention: RetentionDays.ONE_MONTH });
    return new StateMachine(this, 'StateMachine', {
      comment: 'VideoBatch: one child VideoJob per manifest line, then a summary',
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.days(3),
      tracingEnabled: true,
      // Every state transition, none of its data (see VideoJobWorkflow): lines carry image URLs.
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
  }
}

interface BatchFunctionProps {
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
}

/** The logical id of a resource's CloudFormation element, as cdk-nag names it in finding ids. */
const logicalIdOf = (construct: IConstruct): string | undefined => {
  const element = construct.node.defaultChild;
  return element instanceof CfnElement ? Stack.of(construct).getLogicalId(element) : undefined;
};

/** How cdk-nag spells the ARN prefix of a state machine's executions in a finding id. */
const executionsOf = (stateMachineLogicalId: string): string =>
  'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:' +
  `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${stateMachineLogicalId}"}]}]}`;

const grant = (grantee: IGrantable, actions: string[], resourceArns: string[]): void => {
  Grant.addToPrincipal({ grantee, actions, resourceArns });
};

/** Context keys that configure batches (`cdk deploy -c batchSchedule="cron(0 9 * * ? *)"`, or cdk.json). */
export const BATCH_CONTEXT_KEYS = {
  /** When scheduled batches run (see BatchScheduleProps.expression). Absent: no schedule. */
  schedule: 'batchSchedule',
  /** The IANA time zone of the schedule. @default UTC */
  timeZone: 'batchTimeZone',
  /** The manifest scheduled batches read. @default manifests/scheduled.jsonl */
  manifestKey: 'batchManifestKey',
  /** Child VideoJobs in flight per batch; overrides the sizing from segmindRequestsPerMinute. */
  maxConcurrency: 'batchMaxConcurrency',
  /** The account's Segmind limit in requests per minute (5 free, 50 Pro). @default 50 */
  segmindRequestsPerMinute: 'segmindRequestsPerMinute',
} as const;

export const DEFAULT_SCHEDULED_MANIFEST_KEY = `${MANIFESTS_PREFIX}scheduled.jsonl`;
export const DEFAULT_SEGMIND_REQUESTS_PER_MINUTE = 50;

/** What the stack passes to VideoBatch besides the resources it wires in. */
export type VideoBatchSettings = Pick<VideoBatchProps, 'maxConcurrency' | 'schedule'>;

type ContextReader = { tryGetContext(key: string): unknown };

const contextString = (node: ContextReader, key: string): string | undefined => {
  const value = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value;
};

const contextInteger = (node: ContextReader, key: string): number | undefined => {
  const value = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  // `cdk -c key=value` passes strings; cdk.json may hold numbers.
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`context ${key} must be a positive integer`);
  return number;
};

/** The batch settings from the app's context; sizes maxConcurrency to the Segmind limit unless given. */
export const batchSettingsFromContext = (node: ContextReader): VideoBatchSettings => {
  const K = BATCH_CONTEXT_KEYS;
  const requestsPerMinute =
    contextInteger(node, K.segmindRequestsPerMinute) ?? DEFAULT_SEGMIND_REQUESTS_PER_MINUTE;
  const maxConcurrency =
    contextInteger(node, K.maxConcurrency) ?? sizeBatchConcurrency({ requestsPerMinute }).maxConcurrency;
  const expression = contextString(node, K.schedule);
  const timeZone = contextString(node, K.timeZone);
  const manifestKey = contextString(node, K.manifestKey);
  if (expression === undefined && (timeZone !== undefined || manifestKey !== undefined)) {
    throw new Error(`context ${K.timeZone} and ${K.manifestKey} need ${K.schedule} (the cron expression)`);
  }
  return {
    maxConcurrency,
    ...(expression === undefined
      ? {}
      : {
          schedule: {
            expression,
            manifestKey: manifestKey ?? DEFAULT_SCHEDULED_MANIFEST_KEY,
            ...(timeZone === undefined ? {} : { timeZone }),
          },
        }),
  };
};
