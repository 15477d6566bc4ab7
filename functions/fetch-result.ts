// FetchResult task: reads Segmind's result and records its cost and timings (see #domain/fetch-result).
// Payload: the whole state `$` (jobId, segmind, and `result` when this step asked to be retried); returns
// FetchResultOutput — the FetchedResult, or a RetryLater `{retryAt, reason, attempt, detail}` — to `$.result`.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createJobStore } from '#adapters/job-store';
import { createRequestBudget } from '#adapters/request-budget';
import { jobClockFromEnv } from '#commons/clock';
import { jobsConfig, requestBudgetConfig } from '#commons/config';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { segmindApiKeyProvider } from '#commons/segmind-key';
import { type FetchWithinBudgetDeps, fetchWithinBudget, RATE_BUDGET_REASON } from '#domain/budgeted-steps';
import { InvalidPayloadError } from '#domain/errors';
import type { FetchResultOutput } from '#domain/fetch-result';
import { JOB_ID_PATTERN } from '#domain/job-id';
import { isRetryLater } from '#domain/retry-later';
import { SegmindClient, segmindConfigFromEnv } from '#segmind/client';

jobsConfig();
requestBudgetConfig();
const segmindSettings = segmindConfigFromEnv();
const apiKey = segmindApiKeyProvider();
const clock = jobClockFromEnv();

const payloadSchema = z.looseObject({
  jobId: z.string().regex(JOB_ID_PATTERN, 'jobId must be 1-80 of A-Z a-z 0-9 _ -'),
  segmind: z.looseObject({
    requestId: z.string().min(1),
    responseUrl: z.string().min(1),
    submittedAt: z
      .string()
      .refine((value) => !Number.isNaN(Date.parse(value)), 'segmind.submittedAt must be an ISO-8601 time'),
  }),
  // This step's previous answer: only its attempt count is read, so anything else is ignored.
  result: z.unknown().optional(),
});

let deps: FetchWithinBudgetDeps | undefined;
const dependencies = (): FetchWithinBudgetDeps => {
  deps ??= {
    store: createJobStore(),
    segmind: new SegmindClient({ ...segmindSettings, apiKey }),
    budget: createRequestBudget({ apiKey, timeScale: clock.timeScale }),
    clock,
  };
  return deps;
};

export const handler = lambdaHandler(async (event: unknown): Promise<FetchResultOutput> => {
  const parsed = payloadSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidPayloadError(`FetchResult got an unreadable payload: ${z.prettifyError(parsed.error)}`);
  }
  const { jobId, segmind, result: previous } = parsed.data;
  logger.appendKeys({ jobId, segmindRequestId: segmind.requestId });
  const result = await fetchWithinBudget({ jobId, segmind, previous }, dependencies());
  if (isRetryLater(result) && result.reason === RATE_BUDGET_REASON) {
    metrics.addMetric('ResultFetchesWaitingForRateBudget', MetricUnit.Count, 1);
    logger.info('Waiting for a slot of the rate budget', { retryAt: result.retryAt });
    return result;
  }
  if (isRetryLater(result)) {
    metrics.addMetric('SegmindResultRetries', MetricUnit.Count, 1);
    logger.warn('Fetching the result again later', { ...result });
    return result;
  }
  const { cost, inferenceTime } = result.metrics;
  if (cost !== undefined) metrics.addMetric('SegmindCost', MetricUnit.NoUnit, cost);
  if (inferenceTime !== undefined)
    metrics.addMetric('SegmindInferenceTime', MetricUnit.Seconds, inferenceTime);
  logger.info('Fetched the result', { fileSize: result.fileSize, metrics: result.metrics });
  return result;
});
