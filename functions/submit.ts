// Submit task: validates the request and POSTs it to Segmind at most once (see #domain/submit-job).
// Payload: the whole state `$` ({jobId, request}, and `segmind.budget` after a wait for the request budget);
// returns SubmitResult — or BudgetWait when the job must wait for the budget — written to `$.segmind`.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createJobStore } from '#adapters/job-store';
import { createRequestBudget } from '#adapters/request-budget';
import { jobClockFromEnv } from '#commons/clock';
import { jobsConfig, requestBudgetConfig, submitPolicyConfig, videoUrlPolicy } from '#commons/config';
import { SUBMIT_OUTCOME_UNKNOWN_COST_METRIC, SUBMIT_OUTCOME_UNKNOWN_METRIC } from '#commons/metric-names';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { segmindApiKeyProvider } from '#commons/segmind-key';
import { isBudgetWait, type SubmitWithinBudgetDeps, submitWithinBudget } from '#domain/budgeted-steps';
import { InvalidPayloadError } from '#domain/errors';
import { JOB_ID_PATTERN } from '#domain/job-id';
import type { BudgetWait, JobSource, SubmitResult } from '#domain/video-job';
import { SegmindClient, segmindConfigFromEnv } from '#segmind/client';

// Read at load, so that a missing or bad variable fails the cold start and names itself.
jobsConfig();
const { resubmitUnknownOutcome } = submitPolicyConfig();
requestBudgetConfig();
const segmindSettings = segmindConfigFromEnv();
// StoreVideo's allow list for the video URL (Segmind's origin and LTX_ALLOWED_VIDEO_HOSTS): a setting it
// could not parse must stop the submit here, before Segmind bills a video nobody could fetch.
videoUrlPolicy();
const apiKey = segmindApiKeyProvider();
const clock = jobClockFromEnv();

const JOB_SOURCES = ['api', 'upload', 'batch', 'cli'] as const satisfies readonly JobSource[];

// Loose: the task gets the whole execution input, of which it reads only this. The request was validated
// where it came in; the use case checks only its shape (InvalidVideoRequestError names the field).
const payloadSchema = z.looseObject({
  jobId: z.string().regex(JOB_ID_PATTERN, 'jobId must be 1-80 of A-Z a-z 0-9 _ -'),
  request: z.unknown(),
  source: z.enum(JOB_SOURCES).optional(),
  batchId: z.string().min(1).optional(),
  // Present after a wait for the request budget: the ticket (place in line) or the reserved slot.
  segmind: z
    .looseObject({
      budget: z
        .object({
          retryAt: z.string(),
          ticket: z.number().int().positive().optional(),
          place: z.number().int().positive().optional(),
          reservedAt: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
});

// Created on first use, not at import: the local stack configures the AWS clients after loading handlers.
let deps: SubmitWithinBudgetDeps | undefined;
const dependencies = (): SubmitWithinBudgetDeps => {
  deps ??= {
    store: createJobStore(),
    segmind: new SegmindClient({ ...segmindSettings, apiKey }),
    budget: createRequestBudget({ apiKey, timeScale: clock.timeScale }),
    clock,
    onWaiting: (wait) => {
      metrics.addMetric('SubmitsWaitingForRateBudget', MetricUnit.Count, 1);
      logger.info('Waiting for the rate budget', { ...wait });
    },
    onAccepted: (submitted) => {
      metrics.addMetric('SegmindJobsSubmitted', MetricUnit.Count, 1);
      logger.info('Segmind accepted the job', { segmindRequestId: submitted.requestId });
    },
    onOutcomeUnknown: (unknown) => {
      // The alarm watches the count; the cost says what the jobs Segmind may have billed could add up to.
      metrics.addMetric(SUBMIT_OUTCOME_UNKNOWN_METRIC, MetricUnit.Count, 1);
      metrics.addMetric(SUBMIT_OUTCOME_UNKNOWN_COST_METRIC, MetricUnit.NoUnit, unknown.possibleCostUsd);
      logger.error('Submit outcome unknown: Segmind may have created and billed a job we cannot see', {
        ...unknown,
      });
    },
    resubmitUnknown: resubmitUnknownOutcome,
  };
  return deps;
};

export const handler = lambdaHandler(async (event: unknown): Promise<SubmitResult | BudgetWait> => {
  const parsed = payloadSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidPayloadError(`Submit got an unreadable payload: ${z.prettifyError(parsed.error)}`);
  }
  const { jobId, request, source, batchId, segmind } = parsed.data;
  const budget = segmind?.budget;
  logger.appendKeys({ jobId });
  const result = await submitWithinBudget(
    {
      jobId,
      request,
      ...(source === undefined ? {} : { source }),
      ...(batchId === undefined ? {} : { batchId }),
      ...(budget === undefined ? {} : { budget: withoutUndefined(budget) }),
    },
    dependencies(),
  );
  if (isBudgetWait(result)) return result;
  logger.appendKeys({ segmindRequestId: result.requestId });
  logger.info('Submitted; first poll scheduled', { firstPollAt: result.firstPollAt });
  return result;
});

/** zod's optional fields may hold `undefined`; the domain's types (exactOptionalPropertyTypes) do not. */
const withoutUndefined = <T extends object>(value: T) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
