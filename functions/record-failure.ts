// RecordFailure task: ends the job record with a terminal status (see #domain/record-failure).
// Payload: the whole state `$` — jobId, `failure` (a Catch's {Error, Cause}) and, once a poll ran, `poll`
// (its pollCount goes on the record). The whole state rather than picked paths, because a JSONPath to a
// field that is absent (no `poll` when Submit failed) would fail the state. Returns {status, errorCode,
// errorMessage} as the record ends, written to `$.outcome`. Tolerates any `failure`, never throws on it.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createJobStore } from '#adapters/job-store';
import { jobClockFromEnv } from '#commons/clock';
import { jobsConfig } from '#commons/config';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { InvalidPayloadError } from '#domain/errors';
import { JOB_ID_PATTERN } from '#domain/job-id';
import { type FailureOutcome, type RecordFailureDeps, recordFailure } from '#domain/record-failure';

jobsConfig();
const clock = jobClockFromEnv();

const payloadSchema = z.looseObject({
  jobId: z.string().regex(JOB_ID_PATTERN, 'jobId must be 1-80 of A-Z a-z 0-9 _ -'),
  failure: z.unknown(),
  // Bookkeeping only: a poll state that cannot be read is ignored, never a reason to leave the job open.
  poll: z.looseObject({ pollCount: z.number().int().nonnegative() }).optional().catch(undefined),
});

let deps: RecordFailureDeps | undefined;
const dependencies = (): RecordFailureDeps => {
  deps ??= { store: createJobStore(), clock };
  return deps;
};

export const handler = lambdaHandler(async (event: unknown): Promise<FailureOutcome> => {
  const parsed = payloadSchema.safeParse(event);
  if (!parsed.success) {
    // Without a job id there is no record to end; the execution fails with this error instead.
    throw new InvalidPayloadError(
      `RecordFailure got an unreadable payload: ${z.prettifyError(parsed.error)}`,
    );
  }
  const { jobId, failure, poll } = parsed.data;
  logger.appendKeys({ jobId });
  const outcome = await recordFailure(
    { jobId, failure, ...(poll === undefined ? {} : { pollCount: poll.pollCount }) },
    dependencies(),
  );
  metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
  logger.warn('Job ended without a video', { ...outcome });
  return outcome;
});
