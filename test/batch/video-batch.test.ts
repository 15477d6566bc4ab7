// The batch infrastructure as synthesized: the schedule (cron, time zone, target and its role), the batch
// state machine read back state by state (ItemReader, MaxConcurrency, how each line starts its child), the
// least-privilege grants, and cdk-nag with a schedule configured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#commons/env';
import { sizeBatchConcurrency } from '#domain/batch-concurrency';
import {
  DEFAULT_SCHEDULED_MANIFEST_KEY,
  EXECUTION_ALREADY_EXISTS,
  BATCH_STATES as S,
  scheduleExpressionOf,
} from '#infra/constructs/video-batch';
import { type AslDefinition, type CfnTemplate, definitionFromTemplate } from '#infra/definition';
import { buildApp } from '#infra/stack';
import {
  type AssemblyRoot,
  assemblyRoot,
  catchersOf,
  getAttTarget,
  logicalIdOf,
  propertiesOf,
  type SynthesizedApp,
  stateOf,
  synthApp,
  videoJobDefinition,
} from '#test/infra/support/cdk';

const SCHEDULED = {
  batchSchedule: '0 9 * * ? *',
  batchTimeZone: 'Europe/Paris',
  batchManifestKey: 'manifests/daily.jsonl',
  batchMaxConcurrency: '4',
};

let root: AssemblyRoot;
let plain: SynthesizedApp;
let scheduled: SynthesizedApp;

beforeAll(() => {
  root = assemblyRoot();
  plain = synthApp(root);
  scheduled = synthApp(root, { context: SCHEDULED });
});
afterAll(() => root.cleanup());

const batchDefinition = (app: SynthesizedApp): AslDefinition =>
  definitionFromTemplate(app.json, { stateMachineLogicalId: logicalIdOf(app, app.stack.batch.stateMachine) });

/** A state of the Distributed Map's item processor. */
const itemState = (definition: AslDefinition, name: string) => {
  const map = stateOf(definition, S.runBatchLines) as unknown as { ItemProcessor: AslDefinition };
  return stateOf(map.ItemProcessor, name);
};

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of the inline policies attached to a role, with actions as a list. */
const statementsOf = (json: CfnTemplate, roleLogicalId: string) =>
  Object.values(json.Resources ?? {})
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties?.Roles).includes(`"${roleLogicalId}"`))
    .flatMap(
      (r) => (r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
    )
    .map((s) => ({ Action: [s.Action].flat().sort(), Resource: s.Resource }));

/** Grants beyond the house ones every function has (X-Ray, its own log group). */
const grantsOf = (app: SynthesizedApp, fn: { node: { defaultChild?: unknown } }) =>
  statementsOf(app.json, getAttTarget(propertiesOf(app.json, logicalIdOf(app, fn)).Role)).filter(
    (s) => !s.Action.some((a) => a.startsWith('xray:') || a.startsWith('logs:')),
  );

const objects = (app: SynthesizedApp, suffix: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(app, app.stack.storage.videos), 'Arn'] }, suffix]],
});

describe('the schedule', () => {
  it('exists only when configured: batches can always be started by hand', () => {
    plain.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    plain.template.hasOutput('BatchStateMachineArn', {});
    scheduled.template.resourceCountIs('AWS::Scheduler::Schedule', 1);
  });

  it('runs the cron expression in its time zone and starts the batch state machine with the manifest', () => {
    const [props] = Object.values(scheduled.template.findResources('AWS::Scheduler::Schedule')).map(
      (r) => r.Properties,
    );
    expect(props).toMatchObject({
      ScheduleExpression: 'cron(0 9 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { Ref: logicalIdOf(scheduled, scheduled.stack.batch.stateMachine) },
        RetryPolicy: { MaximumRetryAttempts: expect.any(Number) },
      },
    });
    // The input names the batch after the scheduled time: a repeated delivery starts the same children.
    const input = JSON.stringify(props?.Target.Input);
    expect(input).toContain('\\"batchId\\":\\"<aws.scheduler.scheduled-time>\\"');
    expect(input).toContain('\\"key\\":\\"manifests/daily.jsonl\\"');
    expect(input).toContain(`"Ref":"${logicalIdOf(scheduled, scheduled.stack.storage.videos)}"`);
  });

  it('assumes a role that only Scheduler of this account can take, allowed only to start the batch', () => {
    const schedule = Object.values(scheduled.template.findResources('AWS::Scheduler::Schedule'))[0];
    const role = getAttTarget(schedule?.Properties.Target.RoleArn);
    expect(propertiesOf(scheduled.json, role).AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(statementsOf(scheduled.json, role)).toEqual([
      {
        Action: ['states:StartExecution'],
        Resource: { Ref: logicalIdOf(scheduled, scheduled.stack.batch.stateMachine) },
      },
    ]);
  });

  it('takes six bare cron fields or a full expression, and defaults the manifest key', () => {
    expect(scheduleExpressionOf('0 9 * * ? *')).toBe('cron(0 9 * * ? *)');
    expect(scheduleExpressionOf(' cron(0/30 * * * ? *) ')).toBe('cron(0/30 * * * ? *)');
    expect(scheduleExpressionOf('rate(1 day)')).toBe('rate(1 day)');
    const app = synthApp(root, { context: { batchSchedule: 'rate(12 hours)' } });
    const schedule = Object.values(app.template.findResources('AWS::Scheduler::Schedule'))[0];
    expect(schedule?.Properties.ScheduleExpressionTimezone).toBe('UTC');
    expect(JSON.stringify(schedule?.Properties.Target.Input)).toContain(DEFAULT_SCHEDULED_MANIFEST_KEY);
  });

  it.each([
    [{ batchSchedule: '0 9 * *' }, /expected cron\(…\), rate\(…\) or the six fields/],
    [{ batchSchedule: '0 9 * * ? *', batchTimeZone: 'Mars/Olympus' }, /not an IANA time zone/],
    [
      { batchSchedule: '0 9 * * ? *', batchManifestKey: 'daily.jsonl' },
      /manifestKey must be under manifests\//,
    ],
    [{ batchTimeZone: 'UTC' }, /need batchSchedule/],
    [{ batchMaxConcurrency: '0' }, /batchMaxConcurrency must be a positive integer/],
  ])('refuses the configuration %j at synth', (context, message) => {
    expect(() =>
      buildApp({ bundling: false, outdir: root.outdir(), context, cloudFormationValidation: false }),
    ).toThrow(message);
  });
});

describe('the batch state machine', () => {
  it('is a Standard workflow, traced, logging every event without execution data (lines carry image URLs), valid ASL', () => {
    const props = propertiesOf(scheduled.json, logicalIdOf(scheduled, scheduled.stack.batch.stateMachine));
    expect(props).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    const result = aslValidator(structuredClone(batchDefinition(scheduled)));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('prepares the manifest from the execution input and its name', () => {
    const definition = batchDefinition(scheduled);
    expect(definition.StartAt).toBe(S.prepareBatch);
    expect(stateOf(definition, S.prepareBatch)).toMatchObject({
      Resource: expect.stringContaining(
        `function:${logicalIdOf(scheduled, scheduled.stack.batch.prepareFunction)}`,
      ),
      Parameters: { 'input.$': '$', 'executionName.$': '$$.Execution.Name' },
      ResultPath: '$.batch',
      Next: S.runBatchLines,
    });
  });

  it('maps over the lines file with a Distributed Map reading JSONL from S3, maxConcurrency at a time', () => {
    const map = stateOf(batchDefinition(scheduled), S.runBatchLines);
    expect(map).toMatchObject({
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { 'Bucket.$': '$.batch.lines.bucket', 'Key.$': '$.batch.lines.key' },
      },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ItemSelector: { 'batchId.$': '$.batch.batchId', 'line.$': '$$.Map.Item.Value' },
      MaxConcurrency: 4,
      ToleratedFailurePercentage: 100,
      ResultPath: null,
      Next: S.summarizeBatch,
    });
    // A failed map is still summarized: every line is accounted for.
    expect(catchersOf(map)).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.mapError', Next: S.summarizeBatch },
    ]);
  });

  it("sizes maxConcurrency to Segmind's rate limit unless it is given", () => {
    const sized = (rpm: number) => sizeBatchConcurrency({ requestsPerMinute: rpm }).maxConcurrency;
    expect(stateOf(batchDefinition(plain), S.runBatchLines).MaxConcurrency).toBe(sized(50));
    const pro = synthApp(root, { context: { segmindRequestsPerMinute: '500' } });
    expect(stateOf(batchDefinition(pro), S.runBatchLines).MaxConcurrency).toBe(sized(500));
  });

  it('starts each runnable line as a child VideoJob named after its job, waiting for it to end', () => {
    const definition = batchDefinition(scheduled);
    expect(itemState(definition, S.isLineRunnable)).toMatchObject({
      Choices: [{ Variable: '$.line.request', IsPresent: true, Next: S.startVideoJob }],
      Default: S.lineRejected,
    });
    const videoJobArn = `arn:aws:states:us-east-1:123456789012:stateMachine:${logicalIdOf(
      scheduled,
      scheduled.stack.workflow.stateMachine,
    )}`;
    const start = itemState(definition, S.startVideoJob);
    expect(start).toMatchObject({
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: {
        StateMachineArn: videoJobArn,
        'Name.$': '$.line.jobId',
        // Submit creates the record with batchId (the byBatch index) and source 'batch'.
        Input: {
          'jobId.$': '$.line.jobId',
          'request.$': '$.line.request',
          source: 'batch',
          'batchId.$': '$.batchId',
        },
      },
      Next: S.lineJobEnded,
    });
    // .sync outlasts the child's own timeout, so the child's fires first and is recorded on the job.
    expect(Number(start.TimeoutSeconds)).toBeGreaterThan(
      Number(videoJobDefinition(scheduled).TimeoutSeconds),
    );
    // A rerun meets existing children: nothing new runs; any failure is the line's, never the batch's.
    expect(catchersOf(start)).toEqual([
      { ErrorEquals: [EXECUTION_ALREADY_EXISTS], ResultPath: '$.childError', Next: S.lineRanBefore },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.childError', Next: S.lineJobFailed },
    ]);
  });

  it('summarizes, then fails the execution only when some line did not end', () => {
    const definition = batchDefinition(scheduled);
    expect(stateOf(definition, S.summarizeBatch)).toMatchObject({
      Resource: expect.stringContaining(
        `function:${logicalIdOf(scheduled, scheduled.stack.batch.summarizeFunction)}`,
      ),
      ResultPath: '$.summary',
      Next: S.didEveryLineEnd,
    });
    expect(stateOf(definition, S.didEveryLineEnd)).toMatchObject({
      Choices: [{ Variable: '$.summary.status', StringEquals: 'INCOMPLETE', Next: S.batchIncomplete }],
      Default: S.batchDone,
    });
    expect(stateOf(definition, S.batchIncomplete)).toMatchObject({
      Type: 'Fail',
      Error: 'BatchIncompleteError',
    });
  });
});

describe('least privilege', () => {
  it('lets PrepareBatch read manifests, write batch files and update the batch record — nothing else', () => {
    const { batch } = scheduled.stack;
    expect(grantsOf(scheduled, batch.prepareFunction)).toEqual([
      { Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objects(scheduled, '/manifests/*') },
      { Action: ['s3:PutObject'], Resource: objects(scheduled, '/batches/*') },
      {
        Action: ['dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(scheduled, batch.batches), 'Arn'] },
      },
    ]);
  });

  it('lets SummarizeBatch read job records in bulk, and read and write batch files', () => {
    const { batch, storage } = scheduled.stack;
    expect(grantsOf(scheduled, batch.summarizeFunction)).toEqual([
      { Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(scheduled, '/batches/*') },
      {
        Action: ['dynamodb:BatchGetItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(scheduled, storage.jobs), 'Arn'] },
      },
      {
        Action: ['dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(scheduled, batch.batches), 'Arn'] },
      },
    ]);
  });

  it('lets the state machine read only the lines files from S3, and start only VideoJob executions', () => {
    const { batch, workflow } = scheduled.stack;
    const role = getAttTarget(
      propertiesOf(scheduled.json, logicalIdOf(scheduled, batch.stateMachine)).RoleArn,
    );
    const statements = statementsOf(scheduled.json, role);
    const s3 = statements.filter((s) => s.Action.some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      { Action: ['s3:GetObject'], Resource: objects(scheduled, '/batches/*/lines.jsonl') },
    ]);
    const starts = statements.filter((s) => s.Action.includes('states:StartExecution'));
    expect(starts.map((s) => s.Resource)).toEqual(
      expect.arrayContaining([{ Ref: logicalIdOf(scheduled, workflow.stateMachine) }]),
    );
    // The only other StartExecution is the Distributed Map's, on its own state machine (its Map Runs).
    expect(starts.map((s) => s.Resource)).toEqual(
      expect.arrayContaining([{ Ref: logicalIdOf(scheduled, batch.stateMachine) }]),
    );
    expect(starts).toHaveLength(2);
  });

  it('configures both functions with the tables and the bucket they use', () => {
    const { batch, storage } = scheduled.stack;
    for (const fn of [batch.prepareFunction, batch.summarizeFunction]) {
      expect(propertiesOf(scheduled.json, logicalIdOf(scheduled, fn)).Environment).toMatchObject({
        Variables: {
          [ENV.batchesTable]: { Ref: logicalIdOf(scheduled, batch.batches) },
          [ENV.jobsTable]: { Ref: logicalIdOf(scheduled, storage.jobs) },
          [ENV.videosBucket]: { Ref: logicalIdOf(scheduled, storage.videos) },
        },
      });
    }
  });

  it('keeps batch records in their own on-demand, recoverable, encrypted table keyed by batchId', () => {
    expect(propertiesOf(scheduled.json, logicalIdOf(scheduled, scheduled.stack.batch.batches))).toMatchObject(
      {
        KeySchema: [{ AttributeName: 'batchId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    );
  });

  it('leaves cdk-nag nothing unacknowledged with a schedule configured', () => {
    const outdir = root.outdir();
    const { app } = buildApp({
      bundling: false,
      outdir,
      context: SCHEDULED,
      cloudFormationValidation: false,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });
});
