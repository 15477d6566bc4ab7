// FetchResult: reads Segmind's result once the status said COMPLETED, keeps its cost and timings on the
// job record, and hands the video URL on to StoreVideo — or, while Segmind throttles, fails or is not
// ready, answers "try again at T" (#domain/retry-later) until the retention deadline.
import type { JobClock } from '#commons/clock';
import { JobDeadlineExceededError } from '#domain/errors';
import type { JobStore } from '#domain/job-store';
import {
  DEFAULT_RETRY_POLICY,
  decideRetry,
  isRetryLater,
  noteWaiting,
  type RetryLater,
  type RetryPolicy,
  type RetryReason,
  retryLaterAt,
  secondsUntil,
  upstreamRetryReason,
} from '#domain/retry-later';
import type { FetchedResult } from '#domain/video-job';
import { SegmindJobFailedError, SegmindRateLimitedError } from '#segmind/errors';
import type { SegmindApi } from '#segmind/types';

export interface FetchResultInput {
  jobId: string;
  segmind: { requestId: string; responseUrl: string; submittedAt: string };
  /** This step's previous answer (`$.result`), when it asked to be retried; it carries the attempt count. */
  previous?: unknown;
}

/** `$.result`: the fetched result, or when to ask again. The workflow branches on `retryAt`. */
export type FetchResultOutput = FetchedResult | RetryLater;

export interface FetchResultDeps {
  store: JobStore;
  segmind: Pick<SegmindApi, 'result'>;
  clock: JobClock;
  random?: () => number;
  policy?: RetryPolicy;
}

export const fetchResult = async (
  input: FetchResultInput,
  deps: FetchResultDeps,
): Promise<FetchResultOutput> => {
  const { requestId, responseUrl, submittedAt } = input.segmind;
  const later = async (reason: RetryReason, detail: string, resetAt?: Date): Promise<RetryLater> => {
    const context = {
      reason,
      detail,
      previousAttempts: isRetryLater(input.previous) ? input.previous.attempt : 0,
      elapsedSeconds: deps.clock.elapsedSeconds(submittedAt),
      random: (deps.random ?? Math.random)(),
      resetInSeconds: secondsUntil(resetAt, deps.clock),
    };
    const decision = decideRetry(context, deps.policy ?? DEFAULT_RETRY_POLICY);
    if (decision.kind === 'give-up') {
      throw new JobDeadlineExceededError(
        `Job ${input.jobId}: Segmind's result for request ${requestId} could not be fetched: ${decision.message}`,
      );
    }
    const answer = retryLaterAt(context, decision, deps.clock);
    await noteWaiting(deps.store, input.jobId, answer, deps.clock.now());
    return answer;
  };

  let report: Awaited<ReturnType<SegmindApi['result']>>;
  try {
    report = await deps.segmind.result(responseUrl);
  } catch (error) {
    const reason = upstreamRetryReason(error);
    if (reason === undefined) throw error;
    return later(
      reason,
      error instanceof Error ? error.message : String(error),
      error instanceof SegmindRateLimitedError ? error.resetAt : undefined,
    );
  }
  if ('pending' in report) {
    // The status said COMPLETED a moment ago; a short wait normally finds the result.
    return later(
      'result-not-ready',
      `Segmind has no result for request ${requestId} yet (status ${JSON.stringify(report.status)})`,
    );
  }
  if (report.status === 'FAILED') {
    throw new SegmindJobFailedError(report.error, { requestId });
  }
  // A missing record is not worth losing the video over; the metrics are bookkeeping. (This write also
  // clears the record's `waiting`.)
  await deps.store.recordMetrics(input.jobId, report.metrics, deps.clock.now());
  const { video, metrics } = report;
  return {
    videoUrl: video.url,
    ...(video.fileSize === undefined ? {} : { fileSize: video.fileSize }),
    ...(video.contentType === undefined ? {} : { contentType: video.contentType }),
    metrics,
  };
};
