// PollStatus task: one status request to Segmind and the time of the next one (see #domain/poll-job).
// Payload: the whole state `$` (jobId, request, segmind, and `poll` from the previous poll, absent on
// the first); returns PollState, written to `$.poll`, whose `status` the workflow's Choice branches on.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createJobStore } from '#adapters/job-store';
import { createRequestBudget } from '#adapters/request-budget';
import { jobClockFromEnv } from '#commons/clock';
import { jobsConfig, requestBudgetConfig } from '#commons/config';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { segmindApiKeyProvider } from '#commons/segmind-key';
import {
  type PollWithinBudgetDeps,
  pollWithinBudget,
  WAITING_FOR_BUDGET_STATUS,
} from '#domain/budgeted-steps';
import { InvalidPayloadError } from '#domain/errors';
import { JOB_ID_PATTERN } from '#domain/job-id';
import type { PollState } from '#domain/video-job';
import { SegmindClient, segmindConfigFromEnv } from '#segmind/client';

jobsConfig();
requestBudgetConfig();
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
      budget: z.object({ reservedAt: z.string() }).optional(),
    })
    .optional(),
});

let deps: PollWithinBudgetDeps | undefined;
const dependencies = (): PollWithinBudgetDeps => {
  deps ??= {
    store: createJobStore(),
    segmind: new SegmindClient({ ...segmindSettings, apiKey }),
    budget: createRequestBudget({ apiKey, timeScale: clock.timeScale }),
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
  const state = await pollWithinBudget(
    { jobId, request, segmind, ...(poll === undefined ? {} : { poll }) },
    dependencies(),
  );
  if (state.status === WAITING_FOR_BUDGET_STATUS) {
    metrics.addMetric('PollsWaitingForRateBudget', MetricUnit.Count, 1);
    logger.info('Waiting for a slot of the rate budget', { nextPollAt: state.nextPollAt });
    return state;
  }
  metrics.addMetric('SegmindStatusPolls', MetricUnit.Count, 1);
  if (state.status === 'THROTTLED') metrics.addMetric('SegmindThrottledPolls', MetricUnit.Count, 1);
  if (state.status === 'UNAVAILABLE') metrics.addMetric('SegmindUnavailablePolls', MetricUnit.Count, 1);
  logger.info('Polled', { status: state.status, pollCount: state.pollCount, nextPollAt: state.nextPollAt });
  return state;
});
