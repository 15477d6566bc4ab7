// The videos bucket and the jobs table keep their secure defaults: what a user would check in the console.
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIDEO_STAGING_PREFIX } from '#adapters/video-upload';
import { JOB_INDEXES } from '#infra/constructs/storage';
import {
  type AssemblyRoot,
  assemblyRoot,
  logicalIdOf,
  type SynthesizedApp,
  synthApp,
} from '#test/infra/support/cdk';

let root: AssemblyRoot;
let app: SynthesizedApp;

beforeAll(() => {
  root = assemblyRoot();
  app = synthApp(root);
});
afterAll(() => root.cleanup());

describe('the videos bucket', () => {
  const videos = () => app.json.Resources?.[logicalIdOf(app, app.stack.storage.videos)];

  it('is private, encrypted, versioned and kept when the stack goes', () => {
    expect(videos()).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
    });
  });

  it('refuses requests without TLS', () => {
    app.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(app, app.stack.storage.videos) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('aborts incomplete multipart uploads after a day and expires staged copies', () => {
    const lifecycle = videos()?.Properties?.LifecycleConfiguration as { Rules?: Record<string, unknown>[] };
    const rules = lifecycle.Rules ?? [];
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }),
        expect.objectContaining({ Status: 'Enabled', Prefix: VIDEO_STAGING_PREFIX, ExpirationInDays: 1 }),
      ]),
    );
    const abort = rules.find((r) => r.AbortIncompleteMultipartUpload !== undefined);
    expect(abort).not.toHaveProperty('Prefix');
  });

  it('logs access to a separate, equally locked-down bucket', () => {
    expect(videos()?.Properties?.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalIdOf(app, app.stack.storage.accessLogs) },
      LogFilePrefix: expect.any(String),
    });
    expect(app.json.Resources?.[logicalIdOf(app, app.stack.storage.accessLogs)]?.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: expect.any(Number) })] },
    });
  });
});

describe('the jobs table', () => {
  const jobs = () => app.json.Resources?.[logicalIdOf(app, app.stack.storage.jobs)];

  it('is keyed by jobId, on demand, encrypted, point-in-time recoverable and retained', () => {
    expect(jobs()).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });

  it('lists jobs by status, by batch and by owner, newest first by creation time', () => {
    const indexes = jobs()?.Properties?.GlobalSecondaryIndexes;
    expect(indexes).toEqual(
      expect.arrayContaining([
        {
          IndexName: JOB_INDEXES.byStatus,
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: JOB_INDEXES.byBatch,
          KeySchema: [
            { AttributeName: 'batchId', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: JOB_INDEXES.byOwner,
          KeySchema: [
            { AttributeName: 'owner', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]),
    );
    expect(indexes).toHaveLength(3);
    expect(jobs()?.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        ['jobId', 'status', 'createdAt', 'batchId', 'owner'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    );
  });
});
