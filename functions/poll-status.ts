// PollStatus task: one status request to Segmind and the time of the next one (see #domain/poll-job).
// Payload: the whole state `$` (jobId, request, segmind, and `poll` from the previous poll, absent on
// the first); returns PollState, written to `$.poll`, whose `status` the workflow's Choice branches on.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createJobStore } from '#adapters/job-store';
import { jobClockFromEnv } from '#commons/clock';
import { jobsConfig } from '#commons/config';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { segmindApiKeyProvider } from '#commons/segmind-key';
import { InvalidPayloadError } from '#domain/errors';
import { JOB_ID_PATTERN } from '#domain/job-id';
import { type PollJobDeps, pollJob } from '#domain/poll-job';
import type { PollState } from '#domain/video-job';
import { SegmindClient, segmindConfigFromEnv } from '#segmind/client';

jobsConfig();
const segmindSettings = segmindConfigFromEnv();
const apiKey = segmindApiKeyProvider();
const clock = jobClockFromEnv();

const isoInstant = (field: string) =>
  z.string().refine((value) => !Number.isNaN(Date.parse(value)), `${field} must be an ISO-8601 time`);
const count = z.number().int().nonnegative();

const payloadSchema = z.looseObject({
  jobId: z.string().regex(JOB_ID_PATTERN, 'jobId must be 1-80 of A-Z a-z 0-9 _ -'),
  request: z.unknown(),
  segmind: z.looseObject({
    requestId: z.string().min(1),
    statusUrl: z.string().min(1),
    responseUrl: z.string().min(1),
    submittedAt: isoInstant('segmind.submittedAt'),
  }),
  poll: z
    .looseObject({
      status: z.string(),
      pollCount: count,
      nextPollAt: z.string(),
      strikes: count,
      error: z.string().optional(),
      lastSegmindStatus: z.string().optional(),
    })
    .optional(),
});

let deps: PollJobDeps | undefined;
const dependencies = (): PollJobDeps => {
  deps ??= {
    store: createJobStore(),
    segmind: new SegmindClient({ ...segmindSettings, apiKey }),
    clock,
  };
  return deps;
};

export const handler = lambdaHandler(async (event: unknown): Promise<PollState> => {
  const parsed = payloadSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidPayloadError(`PollStatus got an unreadable payload: ${z.prettifyError(parsed.error)}`);
  }
  const { jobId, request, segmind, poll } = parsed.data;
  logger.appendKeys({ jobId, segmindRequestId: segmind.requestId });
  const state = await pollJob(
    { jobId, request, segmind, ...(poll === undefined ? {} : { poll }) },
    dependencies(),
  );
  metrics.addMetric('SegmindStatusPolls', MetricUnit.Count, 1);
  if (state.status === 'THROTTLED') metrics.addMetric('SegmindThrottledPolls', MetricUnit.Count, 1);
  logger.info('Polled', { status: state.status, pollCount: state.pollCount, nextPollAt: state.nextPollAt });
  return state;
});
