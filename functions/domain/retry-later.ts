// "Try again at T": what a workflow step answers instead of failing when the trouble is passing (a 429, a
// 5xx, a timeout, an unreadable answer, a broken or bad download). The state machine waits until `retryAt`
// (a TimestampPath Wait) and runs the step again. A deadline decides when to stop, not a count: Segmind
// keeps a job's result for one hour after the submit, so the loop ends a safety margin before that.
import type { JobClock } from '#commons/clock';
import type { JobStore } from '#domain/job-store';
import {
  SegmindMalformedResponseError,
  SegmindRateLimitedError,
  SegmindTimeoutError,
  SegmindUnavailableError,
} from '#segmind/errors';

/**
 * Why a step waits. Shown on the job record and in logs; any step may add its own (e.g. a rate budget),
 * so the type stays open.
 */
export type RetryReason =
  | 'rate-limited'
  | 'upstream-unavailable'
  | 'result-not-ready'
  | 'video-transfer-failed'
  | 'video-invalid'
  | (string & {});

/** A step's answer when it should run again later: the Wait's TimestampPath and why. */
export interface RetryLater {
  /** Absolute instant of the next attempt (ISO-8601); the Wait state's TimestampPath. */
  retryAt: string;
  reason: RetryReason;
  /** Attempts of this step that ended in a retry, this one included. */
  attempt: number;
  /** The error that caused it, for the record and the logs. */
  detail: string;
}

export const isRetryLater = (value: unknown): value is RetryLater =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { retryAt?: unknown }).retryAt === 'string' &&
  typeof (value as { reason?: unknown }).reason === 'string';

/** Segmind's retention: status and result are kept one hour after the submit (SEGMIND_API.md). */
export const SEGMIND_RETENTION_SECONDS = 60 * 60;

export interface RetryPolicy {
  /** Stop retrying this many job seconds after the submit. */
  deadlineSeconds: number;
  /** After a 429 with a reset time: wait until the reset plus up to this many seconds of jitter... */
  throttleJitterSeconds: number;
  /** ...unless the reset lies further out than this: then ask again at this point (a bogus header). */
  throttleResetMaxWaitSeconds: number;
  /** After a 429 without a usable reset: full-jitter backoff from this base... */
  throttleBackoffBaseSeconds: number;
  /** ...and never longer than this (Segmind's window is one minute). */
  throttleMaxWaitSeconds: number;
  /** After anything else: equal-jitter backoff from this base... */
  backoffBaseSeconds: number;
  /** ...capped here. */
  backoffMaxWaitSeconds: number;
  minWaitSeconds: number;
}

/**
 * Ten minutes of margin inside the hour: the last attempt still needs time to fetch the result and copy the
 * video (StoreVideo may run up to 10 minutes), and Segmind's clock and ours may differ a little.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  deadlineSeconds: SEGMIND_RETENTION_SECONDS - 10 * 60,
  throttleJitterSeconds: 3,
  throttleResetMaxWaitSeconds: 5 * 60,
  throttleBackoffBaseSeconds: 4,
  throttleMaxWaitSeconds: 60,
  backoffBaseSeconds: 2,
  backoffMaxWaitSeconds: 60,
  minWaitSeconds: 1,
});

export interface RetryContext {
  reason: RetryReason;
  detail: string;
  /** Attempts that ended in a retry before this one (0 on the first failure). */
  previousAttempts: number;
  /** Job seconds since the submit. */
  elapsedSeconds: number;
  /** Job seconds from now until a rate-limit window resets (from `x-rate-limit-reset-at-utc`). */
  resetInSeconds?: number;
  /** A uniform draw from [0, 1). */
  random: number;
}

export type RetryDecision =
  | { kind: 'retry'; waitSeconds: number; attempt: number }
  | { kind: 'give-up'; attempt: number; message: string };

const draw = (random: number): number =>
  Number.isFinite(random) ? Math.min(Math.max(random, 0), 0.999_999) : 0.5;

const ceilingFor = (base: number, cap: number, attempt: number): number =>
  Math.min(cap, base * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));

/** When to try again, or that the deadline has passed. Pure: time and randomness come in. */
export const decideRetry = (
  context: RetryContext,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryDecision => {
  const attempt = Math.max(0, Number.isFinite(context.previousAttempts) ? context.previousAttempts : 0) + 1;
  const elapsed = Number.isNaN(context.elapsedSeconds) ? 0 : Math.max(0, context.elapsedSeconds);
  const remaining = policy.deadlineSeconds - elapsed;
  if (remaining <= 1e-6) {
    return {
      kind: 'give-up',
      attempt,
      message:
        `gave up ${Math.round(elapsed)} s after the submit (deadline ${policy.deadlineSeconds} s, inside ` +
        `Segmind's ${SEGMIND_RETENTION_SECONDS} s retention) after ${attempt} attempts; ` +
        `last: ${context.reason}: ${context.detail}`,
    };
  }
  const u = draw(context.random);
  let wait: number;
  const reset = context.resetInSeconds;
  if (context.reason === 'rate-limited' && reset !== undefined && Number.isFinite(reset) && reset > 0) {
    // Everyone throttled by the same window wakes at its reset; the jitter spreads them out.
    wait = Math.min(reset + u * policy.throttleJitterSeconds, policy.throttleResetMaxWaitSeconds);
  } else if (context.reason === 'rate-limited') {
    wait = u * ceilingFor(policy.throttleBackoffBaseSeconds, policy.throttleMaxWaitSeconds, attempt);
  } else {
    // Equal jitter: a guaranteed half of the ceiling, so a recovering service is never hammered.
    const ceiling = ceilingFor(policy.backoffBaseSeconds, policy.backoffMaxWaitSeconds, attempt);
    wait = ceiling / 2 + (u * ceiling) / 2;
  }
  // The last attempt lands on the deadline rather than past it.
  return { kind: 'retry', attempt, waitSeconds: Math.min(Math.max(wait, policy.minWaitSeconds), remaining) };
};

/** The RetryLater answer for a decision to retry, on the job clock (which runs scaled locally). */
export const retryLaterAt = (
  context: Pick<RetryContext, 'reason' | 'detail'>,
  decision: Extract<RetryDecision, { kind: 'retry' }>,
  clock: Pick<JobClock, 'at'>,
): RetryLater => ({
  retryAt: clock.at(decision.waitSeconds).toISOString(),
  reason: context.reason,
  attempt: decision.attempt,
  detail: context.detail,
});

/** Job seconds from now until `resetAt`, or undefined when there is none or it is unreadable. */
export const secondsUntil = (resetAt: Date | undefined, clock: Pick<JobClock, 'elapsedSeconds'>) => {
  if (resetAt === undefined || Number.isNaN(resetAt.getTime())) return undefined;
  return -clock.elapsedSeconds(resetAt.toISOString());
};

/**
 * The reason to try a Segmind GET again later, or undefined when the error is final (404, 401, FAILED, ...).
 * A GET changes nothing upstream, so any passing trouble is worth another try.
 */
export const upstreamRetryReason = (error: unknown): RetryReason | undefined => {
  if (error instanceof SegmindRateLimitedError) return 'rate-limited';
  if (
    error instanceof SegmindUnavailableError ||
    error instanceof SegmindTimeoutError ||
    error instanceof SegmindMalformedResponseError
  ) {
    return 'upstream-unavailable';
  }
  return undefined;
};

/**
 * Shows on the job record why it waits and until when (or, given undefined, that it no longer does). Only
 * bookkeeping for the job view: a failed write must not turn a retry into a failure.
 */
export const noteWaiting = async (
  store: Pick<JobStore, 'recordWaiting'>,
  jobId: string,
  waiting: Pick<RetryLater, 'reason' | 'retryAt' | 'detail'> | undefined,
  at: Date,
): Promise<void> => {
  try {
    await store.recordWaiting(
      jobId,
      waiting === undefined
        ? undefined
        : { reason: waiting.reason, until: waiting.retryAt, detail: waiting.detail.slice(0, 500) },
      at,
    );
  } catch {
    // The next retry, or the next step, writes the record again.
  }
};
