// Where the pipeline keeps things: the videos bucket (plus its access-log bucket) and the jobs table.
// The table's secure defaults live here, the buckets' in SecureBucket; the functions get narrow grants
// from the workflow construct.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { VIDEO_STAGING_PREFIX } from '#adapters/video-upload';
import { SecureBucket } from '#infra/constructs/secure-bucket';

/** Key prefix of the stored videos: the only place store-video may write. */
export const VIDEOS_PREFIX = 'videos/';

/** Global secondary indexes of the jobs table, by name. */
export const JOB_INDEXES = {
  /** List jobs by status, newest or oldest first: pk `status`, sk `createdAt`. */
  byStatus: 'byStatus',
  /** The jobs of one batch: pk `batchId`, sk `createdAt`. */
  byBatch: 'byBatch',
  /** One caller's jobs, newest first: pk `owner`, sk `createdAt` (what GET /videos lists). */
  byOwner: 'byOwner',
} as const;

export class Storage extends Construct {
  /** The generated videos. */
  readonly videos: Bucket;
  /** S3 server access logs of the videos bucket. */
  readonly accessLogs: Bucket;
  /** One item per VideoJob, keyed by `jobId`. */
  readonly jobs: Table;
  /** The shared Segmind request budget: one item per API key, keyed by `budgetId` (a hash of the key). */
  readonly requestBudget: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.accessLogs = new SecureBucket(this, 'AccessLogs', {
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });
    // No access logs of its own, and no acknowledgement needed: cdk-nag's S1 exempts a bucket that is the
    // access-log target of another (logging the logs bucket would need yet another bucket, and so on).

    this.videos = new SecureBucket(this, 'Videos', {
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'videos-bucket/',
      lifecycleRules: [
        // A copy that died mid-way leaves invisible, billed parts behind; nothing resumes them later.
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // store-video deletes its staged copy itself; this catches the copies of functions that died.
        {
          id: 'expire-staged-uploads',
          prefix: VIDEO_STAGING_PREFIX,
          expiration: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(1),
        },
        // Versioning guards against accidental deletes and overwrites; keep such old versions a while only.
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
    });

    // AWS-managed key (aws/dynamodb) rather than the default AWS-owned one: its use shows up in CloudTrail,
    // and unlike a customer-managed key it needs no key policy or kms grants for each function.
    this.jobs = new Table(this, 'Jobs', {
      partitionKey: { name: 'jobId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Small and hot: a few conditional writes per Segmind request. Recovery matters less than for jobs
    // (a lost item only resets the budget), but the secure defaults cost nothing here.
    this.requestBudget = new Table(this, 'RequestBudget', {
      partitionKey: { name: 'budgetId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.jobs.addGlobalSecondaryIndex({
      indexName: JOB_INDEXES.byStatus,
      partitionKey: { name: 'status', type: AttributeType.STRING },
      sortKey: { name: 'createdAt', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.jobs.addGlobalSecondaryIndex({
      indexName: JOB_INDEXES.byOwner,
      partitionKey: { name: 'owner', type: AttributeType.STRING },
      sortKey: { name: 'createdAt', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.jobs.addGlobalSecondaryIndex({
      indexName: JOB_INDEXES.byBatch,
      partitionKey: { name: 'batchId', type: AttributeType.STRING },
      sortKey: { name: 'createdAt', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }
}
