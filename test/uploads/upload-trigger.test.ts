// The upload trigger as synthesized in the real app: a private, versioned bucket that notifies EventBridge,
// a rule filtered to images and sidecars under the prefix, retries and a dead-letter queue on both hops,
// and a function that may do exactly what an upload needs.
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#commons/env';
import { uploadKeyPatterns } from '#domain/upload-job';
import { UploadTrigger, type UploadTriggerProps } from '#infra/constructs/upload-trigger';
import { VideoFunction } from '#infra/constructs/video-function';
import type { CfnTemplate } from '#infra/definition';
import {
  type AssemblyRoot,
  assemblyRoot,
  getAttTarget,
  logicalIdOf,
  propertiesOf,
  type SynthesizedApp,
  synthApp,
} from '#test/infra/support/cdk';

let root: AssemblyRoot;
let app: SynthesizedApp;

beforeAll(() => {
  root = assemblyRoot();
  app = synthApp(root);
});
afterAll(() => root?.cleanup());

const uploads = () => app.stack.uploads;
const arnOf = (construct: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [logicalIdOf(app, construct), 'Arn'],
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const statementsOfRole = (json: CfnTemplate, roleId: string): (Statement & { Action: string[] })[] =>
  Object.values(json.Resources ?? {})
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap(
      (r) => (r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
    )
    .map((s) => ({ ...s, Action: [s.Action].flat().sort() }));

describe('the uploads bucket', () => {
  it('is private, encrypted, TLS-only, versioned, logged, and tells EventBridge about its objects', () => {
    const props = propertiesOf(app.json, logicalIdOf(app, uploads().bucket));
    expect(props).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logicalIdOf(app, app.stack.storage.accessLogs) },
        LogFilePrefix: 'uploads-bucket/',
      },
    });
    // Set on the bucket itself: no custom-resource Lambda to flip the switch at deploy time.
    app.template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  it('expires uploads and their old versions, and aborts abandoned multipart uploads', () => {
    const rules = (
      propertiesOf(app.json, logicalIdOf(app, uploads().bucket)).LifecycleConfiguration as {
        Rules: unknown[];
      }
    ).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
        expect.objectContaining({
          ExpirationInDays: 30,
          NoncurrentVersionExpiration: { NoncurrentDays: 7 },
          Status: 'Enabled',
        }),
      ]),
    );
  });

  it('refuses plain HTTP', () => {
    app.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(app, uploads().bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('is named in the stack outputs', () => {
    app.template.hasOutput('UploadsBucket', { Value: { Ref: logicalIdOf(app, uploads().bucket) } });
  });
});

describe('the rule', () => {
  it('matches S3 "Object Created" in the uploads bucket for images and sidecars under uploads/', () => {
    app.template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: logicalIdOf(app, uploads().bucket) }] },
          object: { key: uploadKeyPatterns('uploads/').map((wildcard) => ({ wildcard })) },
        },
      },
    });
    expect(uploadKeyPatterns('uploads/')).toEqual(
      expect.arrayContaining(['uploads/*.png', 'uploads/*.JPG', 'uploads/*.webp', 'uploads/*.json']),
    );
  });

  it('targets the upload function, with retries and the dead-letter queue', () => {
    const rule = propertiesOf(app.json, logicalIdOf(app, uploads().rule));
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: arnOf(uploads().function),
        DeadLetterConfig: { Arn: arnOf(uploads().deadLetterQueue) },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
      }),
    ]);
    app.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: arnOf(uploads().function),
      SourceArn: arnOf(uploads().rule),
    });
  });
});

describe('the dead-letter queue', () => {
  it('is encrypted, TLS-only and keeps messages for 14 days', () => {
    expect(propertiesOf(app.json, logicalIdOf(app, uploads().deadLetterQueue))).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    app.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalIdOf(app, uploads().deadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': arnOf(uploads().rule) } },
          }),
        ]),
      },
    });
  });

  it('receives the invocations that still fail after Lambda retried them twice', () => {
    app.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalIdOf(app, uploads().function) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: arnOf(uploads().deadLetterQueue) } },
    });
  });

  it('raises an alarm as soon as it holds a message', () => {
    app.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(app, uploads().deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('the upload function', () => {
  it('is a house VideoFunction running functions/start-from-upload.ts with its configuration', () => {
    const fn = uploads().function;
    expect(fn).toBeInstanceOf(VideoFunction);
    expect(fn.entry).toMatch(/functions\/start-from-upload\.ts$/);
    expect(VideoFunction.allIn(app.stack)).toContain(fn);
    const variables = (
      propertiesOf(app.json, logicalIdOf(app, fn)).Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables).toMatchObject({
      [ENV.jobsTable]: { Ref: logicalIdOf(app, app.stack.storage.jobs) },
      [ENV.stateMachineArn]: { Ref: logicalIdOf(app, app.stack.workflow.stateMachine) },
      [ENV.uploadsPrefix]: 'uploads/',
      [ENV.uploadMaxImageBytes]: String(10 * 1024 * 1024),
      [ENV.uploadImageUrlTtlSeconds]: '3600',
    });
  });

  it('may read uploads, write job records, start executions and report to its DLQ — nothing else', () => {
    const roleId = getAttTarget(propertiesOf(app.json, logicalIdOf(app, uploads().function)).Role);
    const statements = statementsOfRole(app.json, roleId);
    const byService = (prefix: string) =>
      statements.filter((s) => s.Action.some((a) => a.startsWith(prefix)));

    expect(byService('s3:')).toEqual([
      expect.objectContaining({
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: { 'Fn::Join': ['', [arnOf(uploads().bucket), '/uploads/*']] },
      }),
    ]);
    expect(byService('dynamodb:')).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: arnOf(app.stack.storage.jobs),
      }),
    ]);
    expect(byService('states:')).toEqual([
      expect.objectContaining({
        Action: ['states:StartExecution'],
        Resource: { Ref: logicalIdOf(app, app.stack.workflow.stateMachine) },
      }),
    ]);
    expect(byService('sqs:')).toEqual([
      expect.objectContaining({ Resource: arnOf(uploads().deadLetterQueue) }),
    ]);
    expect(byService('sqs:')[0]?.Action).toContain('sqs:SendMessage');

    const allowed = /^(s3|dynamodb|states|sqs|logs|xray):/;
    expect(statements.flatMap((s) => s.Action).filter((a) => !allowed.test(a))).toEqual([]);
    const wildcards = statements.filter((s) => s.Resource === '*').flatMap((s) => s.Action);
    expect(wildcards.every((a) => a.startsWith('xray:'))).toBe(true);
  });
});

describe('UploadTrigger on its own', () => {
  const build = (options: Partial<UploadTriggerProps> = {}) => {
    const standalone = new App({ outdir: root.outdir(), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(standalone, 'UploadsTest');
    const jobsTable = new Table(stack, 'Jobs', {
      partitionKey: { name: 'jobId', type: AttributeType.STRING },
    });
    const stateMachine = new StateMachine(stack, 'VideoJob', {
      definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Start')),
    });
    const accessLogs = new Bucket(stack, 'Logs');
    const trigger = new UploadTrigger(stack, 'Uploads', { jobsTable, stateMachine, accessLogs, ...options });
    return { stack, trigger };
  };

  it('takes another prefix, size limit and URL lifetime', () => {
    const { stack } = build({ prefix: 'inbox/', maxImageBytes: 2048, imageUrlTtl: Duration.minutes(15) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.uploadsPrefix]: 'inbox/',
          [ENV.uploadMaxImageBytes]: '2048',
          [ENV.uploadImageUrlTtlSeconds]: '900',
        }),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({
          object: { key: uploadKeyPatterns('inbox/').map((wildcard) => ({ wildcard })) },
        }),
      }),
    });
  });

  it.each([
    [{ prefix: 'uploads' }, /prefix/],
    [{ prefix: '/uploads/' }, /prefix/],
    [{ maxImageBytes: 10 }, /maxImageBytes/],
    [{ imageUrlTtl: Duration.minutes(1) }, /imageUrlTtl/],
    [{ imageUrlTtl: Duration.days(8) }, /imageUrlTtl/],
  ])('refuses %o', (options, message) => {
    expect(() => build(options)).toThrow(message);
  });
});
