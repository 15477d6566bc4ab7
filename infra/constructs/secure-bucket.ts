// The project's secure defaults for an S3 bucket, kept in this one place: every bucket the stack creates
// is one of these.
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * A private, encrypted, TLS-only bucket with ACLs disabled, kept when the stack goes. `props` add to
 * these defaults (versioning, access logs, lifecycle rules).
 *
 * Encryption: SSE-S3 rather than KMS. A customer-managed key adds a monthly fee, a KMS request per part
 * upload and presigned GET, and kms:Decrypt grants for every reader of a presigned URL, while these
 * objects are already private, TLS-only and audited through the access logs. Log delivery to a target
 * bucket does not support SSE-KMS anyway.
 */
export class SecureBucket extends Bucket {
  constructor(scope: Construct, id: string, props: BucketProps = {}) {
    super(scope, id, {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      ...props,
    });
  }
}
