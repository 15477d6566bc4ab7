// StoreVideo task: copies the finished video from its URL into the videos bucket and returns where it is, or
// when to fetch the result and download again (a broken or wrong download, see #domain/store-video).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { createJobStore } from '#adapters/job-store';
import type { VideoUrlPolicy } from '#adapters/url-guard';
import { createVideoSource } from '#adapters/video-download';
import { S3VideoSink } from '#adapters/video-upload';
import { s3Client } from '#commons/aws-clients';
import { jobClockFromEnv } from '#commons/clock';
import { ConfigError, videoUrlPolicy } from '#commons/config';
import { ENV } from '#commons/env';
import { type HandlerOptions, lambdaHandler, logger, metrics } from '#commons/powertools';
import { InvalidPayloadError } from '#domain/errors';
import { expectedVideoOf } from '#domain/mp4-check';
import { isRetryLater } from '#domain/retry-later';
import { type StoreVideoAttemptDeps, type StoreVideoOutput, storeVideoAttempt } from '#domain/store-video';
import { readValidatedRequest } from '#domain/submit-job';

interface StoreVideoConfig {
  bucket: string;
  urlPolicy: VideoUrlPolicy;
}

const loadConfig = (env: Readonly<Record<string, string | undefined>>): Readonly<StoreVideoConfig> => {
  const bucket = env[ENV.videosBucket]?.trim();
  if (!bucket) throw new ConfigError(`Missing environment variable ${ENV.videosBucket} (the videos bucket)`);
  // SEGMIND_BASE_URL's host and LTX_ALLOWED_VIDEO_HOSTS, as Submit checked them before it paid.
  return Object.freeze({ bucket, urlPolicy: videoUrlPolicy() });
};

const config = loadConfig(process.env);
const clock = jobClockFromEnv();

/** Left for Step Functions before the Lambda's own timeout, to abort the multipart upload and report. */
const CLEANUP_MARGIN_MS = 10_000;

// Loose objects: the task gets the whole workflow state (request, poll, ...), of which it reads only this.
const payloadSchema = z.looseObject({
  // The job id becomes part of an S3 key: no slashes, no dot-segments.
  jobId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'jobId must be 1-128 of A-Z a-z 0-9 . _ -'),
  // The job's request: the video must have its frame size, duration and audio.
  request: z.unknown().refine((value) => value !== undefined, 'request is required'),
  segmind: z.looseObject({
    // Stored as S3 metadata, which must be printable ASCII.
    requestId: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'segmind.requestId must be printable ASCII'),
    submittedAt: z
      .string()
      .refine((value) => !Number.isNaN(Date.parse(value)), 'segmind.submittedAt must be an ISO-8601 time'),
  }),
  result: z.looseObject({
    videoUrl: z.string().min(1, 'result.videoUrl must not be empty'),
    fileSize: z.number().int().nonnegative().nullish(),
  }),
  // This step's previous answer: only its attempt count is read, so anything else is ignored.
  video: z.unknown().optional(),
});

export type StoreVideoPayload = z.input<typeof payloadSchema>;

// Created on first use, not at import: the local stack configures the AWS clients after loading handlers.
let deps: StoreVideoAttemptDeps | undefined;
const dependencies = (): StoreVideoAttemptDeps => {
  deps ??= {
    jobs: createJobStore(),
    source: createVideoSource({ policy: config.urlPolicy }),
    sink: new S3VideoSink(s3Client(), {
      onCleanupError: (what, error) =>
        logger.warn('Cleanup after a failed video upload failed', { what, error }),
    }),
    bucket: config.bucket,
    now: () => new Date(),
    clock,
    warn: (message, details) => logger.warn(message, details),
  };
  return deps;
};

/** Aborts the transfer early enough to clean up, when Lambda tells us how long we have. */
const deadlineSignal = (context: Context, options: HandlerOptions | undefined): AbortSignal | undefined => {
  const signals: AbortSignal[] = [];
  if (options?.signal) signals.push(options.signal);
  if (typeof context?.getRemainingTimeInMillis === 'function') {
    signals.push(
      AbortSignal.timeout(Math.max(1_000, context.getRemainingTimeInMillis() - CLEANUP_MARGIN_MS)),
    );
  }
  return signals.length === 0 ? undefined : AbortSignal.any(signals);
};

const store = async (
  event: unknown,
  context: Context,
  options: HandlerOptions,
): Promise<StoreVideoOutput> => {
  const parsed = payloadSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidPayloadError(`StoreVideo got an unreadable payload: ${z.prettifyError(parsed.error)}`);
  }
  const { jobId, segmind, result } = parsed.data;
  logger.appendKeys({ jobId, segmindRequestId: segmind.requestId });
  const expected = expectedVideoOf(readValidatedRequest(parsed.data.request));
  return storeVideoAttempt(
    {
      jobId,
      submittedAt: segmind.submittedAt,
      previous: parsed.data.video,
      segmindRequestId: segmind.requestId,
      videoUrl: result.videoUrl,
      fileSize: result.fileSize ?? undefined,
      expected,
      signal: deadlineSignal(context, options),
    },
    dependencies(),
  );
};

export const handler = lambdaHandler(
  async (event: unknown, context: Context, options: HandlerOptions): Promise<StoreVideoOutput> => {
    try {
      const stored = await store(event, context, options);
      if (isRetryLater(stored)) {
        metrics.addMetric('VideoStoreRetries', MetricUnit.Count, 1);
        logger.warn('The video will be fetched and downloaded again', { ...stored });
        return stored;
      }
      metrics.addMetric('VideoBytesStored', MetricUnit.Bytes, stored.bytes);
      metrics.addMetric('VideosStored', MetricUnit.Count, 1);
      logger.info('Video stored', { key: stored.key, bytes: stored.bytes, sha256: stored.sha256 });
      return stored;
    } catch (error) {
      metrics.addMetric('VideoStoreFailures', MetricUnit.Count, 1);
      throw error;
    }
  },
);
