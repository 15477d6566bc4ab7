// The image-upload entry point: a private uploads bucket that tells EventBridge about new objects, a rule
// for images (and their `.json` sidecars) under the uploads prefix, and the function that turns each into
// an image-to-video job. Failed deliveries and failed invocations, after their retries, land in one
// encrypted dead-letter queue with an alarm on it: an upload is never lost without a trace.
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { type Bucket, CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '#commons/env';
import {
  DEFAULT_IMAGE_URL_TTL_SECONDS,
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_UPLOADS_PREFIX,
  uploadKeyPatterns,
} from '#domain/upload-job';
import { handlerEntry } from '#infra/constructs/handlers';
import { SecureBucket } from '#infra/constructs/secure-bucket';
import { VideoFunction } from '#infra/constructs/video-function';

export interface UploadTriggerProps {
  readonly jobsTable: ITable;
  readonly stateMachine: IStateMachine;
  /** Where the uploads bucket's S3 server access logs go (e.g. Storage's access-log bucket). */
  readonly accessLogs: IBucket;
  /** Key prefix of the drop zone. @default 'uploads/' */
  readonly prefix?: string;
  /** Largest image accepted, in bytes. @default 10 MiB */
  readonly maxImageBytes?: number;
  /** How long the presigned image URL given to Segmind stays valid. @default 1 hour */
  readonly imageUrlTtl?: Duration;
  /** How long uploaded images (and sidecars) are kept. @default 30 days */
  readonly uploadRetention?: Duration;
}

/** The logical id of a resource's CloudFormation element, as cdk-nag names it in finding ids. */
const resourceIdOf = (construct: IConstruct): string | undefined => {
  const element = construct.node.defaultChild;
  return element instanceof CfnElement ? Stack.of(construct).getLogicalId(element) : undefined;
};

export class UploadTrigger extends Construct {
  /** Where images are dropped, under `prefix`. */
  readonly bucket: Bucket;
  readonly prefix: string;
  readonly function: VideoFunction;
  readonly rule: Rule;
  /** Events EventBridge could not deliver, and invocations that failed after Lambda's retries. */
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: UploadTriggerProps) {
    super(scope, id);
    const prefix = props.prefix ?? DEFAULT_UPLOADS_PREFIX;
    if (!/^[A-Za-z0-9!_.'()-][A-Za-z0-9!_.'()/-]*\/$/.test(prefix)) {
      throw new Error(`UploadTrigger prefix must be a key prefix such as "uploads/", got "${prefix}"`);
    }
    const maxImageBytes = props.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES;
    if (!Number.isInteger(maxImageBytes) || maxImageBytes < 1024) {
      throw new Error(
        `UploadTrigger maxImageBytes must be a whole number of at least 1024, got ${maxImageBytes}`,
      );
    }
    const ttlSeconds = props.imageUrlTtl?.toSeconds() ?? DEFAULT_IMAGE_URL_TTL_SECONDS;
    if (ttlSeconds < 300 || ttlSeconds > 7 * 24 * 3600) {
      throw new Error(`UploadTrigger imageUrlTtl must be from 5 minutes to 7 days, got ${ttlSeconds} s`);
    }
    this.prefix = prefix;

    // Its own bucket rather than a prefix of the videos bucket: uploaders get write access to this one
    // only, its objects expire on their own schedule, and EventBridge hears about nothing else.
    this.bucket = new SecureBucket(this, 'Uploads', {
      // Every upload is its own version, so re-uploading the same file is a new job and the presigned
      // URL pins the exact bytes that raised the event.
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'uploads-bucket/',
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-uploads',
          expiration: props.uploadRetention ?? Duration.days(30),
          noncurrentVersionExpiration: Duration.days(7),
        },
      ],
    });

    // EventBridge notifications set on the bucket resource itself. CDK's `eventBridgeEnabled` would add a
    // custom-resource Lambda (with an AWS-managed policy) to do the same at deploy time.
    const cfnBucket = this.bucket.node.defaultChild;
    if (!(cfnBucket instanceof CfnBucket))
      throw new Error('UploadTrigger: the uploads bucket has no CfnBucket');
    cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      // SSE-SQS, not KMS: EventBridge can deliver to it without a key policy, and no kms:* grants are needed.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter queue of the upload rule target and of the function’s failed ' +
          'asynchronous invocations; a DLQ of a DLQ would only move the problem.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This queue is the dead-letter queue; nothing consumes it automatically, so there is nothing to redrive ' +
          'from it (an operator reads it, fixes the cause and replays the events).',
      },
    );
    this.deadLetterAlarm = new Alarm(this, 'DeadLettersAlarm', {
      alarmDescription:
        'Uploads that could not be turned into jobs (see the messages in the dead-letter queue)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.function = new VideoFunction(this, 'StartFromUpload', {
      entry: handlerEntry('start-from-upload'),
      description: 'S3 upload of an image → an image-to-video job',
      environment: {
        [ENV.jobsTable]: props.jobsTable.tableName,
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        [ENV.uploadsPrefix]: prefix,
        [ENV.uploadMaxImageBytes]: String(maxImageBytes),
        [ENV.uploadImageUrlTtlSeconds]: String(ttlSeconds),
      },
      // EventBridge invokes asynchronously: Lambda retries a failure twice, then hands the event and the
      // error to the queue. Nothing is lost by retrying: a repeated event derives the same job id.
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.#grant(props);
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to the same queue through an on-failure destination, which keeps ' +
        'the error and the request context with the event; a DeadLetterConfig as well would deliver each twice.',
    });

    this.rule = new Rule(this, 'ObjectCreated', {
      description: `Images and sidecars uploaded under ${prefix} start image-to-video jobs`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.bucket.bucketName] },
          object: { key: Match.anyOf(...uploadKeyPatterns(prefix).map((p) => Match.wildcard(p))) },
        },
      },
    });
    this.rule.addTarget(
      new LambdaFunction(this.function, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      }),
    );
  }

  #grant(props: UploadTriggerProps): void {
    const fn = this.function;
    // HEAD/GET of images and sidecars (a specific version, too); the presigned URL uses the same right.
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [this.bucket.arnForObjects(`${this.prefix}*`)],
    });
    // The conditional put of the record, its read on a repeat, and the update that ends it as FAILED when
    // the execution cannot start. No index, no scan.
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resourceArns: [props.jobsTable.tableArn],
    });
    props.stateMachine.grantStartExecution(fn);

    const bucketId = resourceIdOf(this.bucket);
    if (bucketId !== undefined) {
      Validations.of(fn.role ?? fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${this.prefix}*]`,
        reason:
          'Reads of uploaded images and sidecars under the uploads prefix: their keys are chosen by uploaders.',
      });
    }
  }
}
