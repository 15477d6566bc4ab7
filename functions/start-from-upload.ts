// An image uploaded under the uploads prefix → an image-to-video job. Invoked by the EventBridge rule
// on S3 "Object Created" (asynchronously: a thrown error is retried, then lands in the DLQ), and
// locally by the uploads watcher with the same event shape and a local workflow port.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createJobStore } from '#adapters/job-store';
import { createUploadObjects } from '#adapters/upload-objects';
import { createVideoWorkflow } from '#adapters/workflow-starter';
import { ConfigError } from '#commons/config';
import { ENV } from '#commons/env';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import {
  DEFAULT_UPLOAD_POLICY,
  handleUploadEvent,
  type UploadJobPorts,
  type UploadOutcome,
  type UploadPolicy,
} from '#domain/upload-job';

/** SigV4 caps presigned URLs at 7 days; under 5 minutes Segmind could find the link dead in its queue. */
const TTL_RANGE = [300, 7 * 24 * 3600] as const;
const MAX_IMAGE_BYTES_RANGE = [1024, 1024 * 1024 * 1024] as const;

const wholeNumber = (
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  [min, max]: readonly [number, number],
): number => {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
};

export const parseUploadPolicy = (env: Readonly<Record<string, string | undefined>>): UploadPolicy => {
  const prefix = env[ENV.uploadsPrefix]?.trim() || DEFAULT_UPLOAD_POLICY.prefix;
  if (!prefix.endsWith('/') || prefix.startsWith('/')) {
    throw new ConfigError(
      `${ENV.uploadsPrefix} must be a key prefix ending in "/" (e.g. uploads/), got "${prefix}"`,
    );
  }
  return Object.freeze({
    prefix,
    maxImageBytes: wholeNumber(
      env,
      ENV.uploadMaxImageBytes,
      DEFAULT_UPLOAD_POLICY.maxImageBytes,
      MAX_IMAGE_BYTES_RANGE,
    ),
    imageUrlTtlSeconds: wholeNumber(
      env,
      ENV.uploadImageUrlTtlSeconds,
      DEFAULT_UPLOAD_POLICY.imageUrlTtlSeconds,
      TTL_RANGE,
    ),
  });
};

const report = (outcome: UploadOutcome): void => {
  switch (outcome.action) {
    case 'started':
      metrics.addMetric('UploadJobsStarted', MetricUnit.Count, 1);
      logger.info('Started an image-to-video job', { jobId: outcome.jobId, key: outcome.image.key });
      return;
    case 'rejected':
      if (outcome.created) metrics.addMetric('UploadsRejected', MetricUnit.Count, 1);
      logger.warn('Upload rejected; the job record says why', { ...outcome });
      return;
    case 'start-failed':
      logger.error('The job of an upload could not start', { jobId: outcome.jobId, error: outcome.error });
      return;
    default:
      logger.info('Nothing to start', { ...outcome });
  }
};

/** The handler with its ports injected: the Lambda's below, or the local stack's (infra/local/uploads-watcher). */
export const uploadEventHandler =
  (ports: UploadJobPorts, policy: UploadPolicy) =>
  async (event: unknown): Promise<UploadOutcome> => {
    const outcome = await handleUploadEvent(ports, policy, event);
    report(outcome);
    return outcome;
  };

export const handler = lambdaHandler(
  uploadEventHandler(
    {
      jobs: createJobStore(),
      workflow: createVideoWorkflow(),
      objects: createUploadObjects(),
      now: () => new Date(),
    },
    parseUploadPolicy(process.env),
  ),
);
