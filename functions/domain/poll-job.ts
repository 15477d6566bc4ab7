// PollStatus: one status request to Segmind, and the decision of when to ask again. A 429, a 5xx, a
// timeout or an unreadable answer is not an error here: it only moves the next poll (past the rate-limit
// reset, or by a backoff), and the polling policy's deadline ends the loop. The job record is written only
// when Segmind's status changes, so a video costs a handful of DynamoDB writes however many polls it takes.
import type { JobClock } from '#commons/clock';
import { JobDeadlineExceededError } from '#domain/errors';
import type { JobStore } from '#domain/job-store';
import { DEFAULT_POLLING_POLICY, nextPoll, nextStrikes, type PollingPolicy } from '#domain/polling-policy';
import { noteWaiting, upstreamRetryReason } from '#domain/retry-later';
import { jobShapeOf, readValidatedRequest } from '#domain/submit-job';
import type { PollState, SubmittedJob } from '#domain/video-job';
import { SegmindRateLimitedError } from '#segmind/errors';
import { SEGMIND_STATUSES, type SegmindApi } from '#segmind/types';

export interface PollJobInput {
  jobId: string;
  request: unknown;
  segmind: SubmittedJob;
  /** The previous poll's state; absent on the first poll. */
  poll?: PollState;
}

export interface PollJobDeps {
  store: JobStore;
  segmind: Pick<SegmindApi, 'status'>;
  clock: JobClock;
  random?: () => number;
  policy?: PollingPolicy;
}

/** Segmind's word for the status, with a documented status recognised whatever its case or padding. */
const normaliseStatus = (raw: string): string => {
  const upper = raw.trim().toUpperCase();
  return (SEGMIND_STATUSES as readonly string[]).includes(upper) ? upper : raw;
};

export const pollJob = async (input: PollJobInput, deps: PollJobDeps): Promise<PollState> => {
  const request = readValidatedRequest(input.request);
  const { clock } = deps;
  const pollCount = (input.poll?.pollCount ?? 0) + 1;
  const previousStrikes = input.poll?.strikes ?? 0;
  // Submit recorded QUEUED (Segmind's status on every accepted submit).
  const previousSegmindStatus =
    input.poll?.lastSegmindStatus ??
    (input.poll !== undefined && input.poll.status !== 'THROTTLED' && input.poll.status !== 'UNAVAILABLE'
      ? input.poll.status
      : 'QUEUED');

  const elapsedSeconds = clock.elapsedSeconds(input.segmind.submittedAt);
  const schedule = (
    lastStatus: string,
    lastSegmindStatus: string,
    throttledUntilSeconds?: number,
    retry?: { reason: string; detail: string },
  ): PollState => {
    const strikes = nextStrikes(previousStrikes, lastStatus);
    const decision = nextPoll(
      {
        job: jobShapeOf(request),
        elapsedSeconds,
        lastStatus,
        pollCount,
        strikes,
        random: (deps.random ?? Math.random)(),
        ...(throttledUntilSeconds === undefined ? {} : { throttledUntilSeconds }),
      },
      deps.policy ?? DEFAULT_POLLING_POLICY,
    );
    if (decision.kind === 'give-up') {
      throw new JobDeadlineExceededError(`Job ${input.jobId}: ${decision.reason}`);
    }
    return {
      status: lastStatus,
      pollCount,
      nextPollAt: clock.at(decision.seconds).toISOString(),
      strikes,
      lastSegmindStatus,
      ...(retry === undefined ? {} : { retryReason: retry.reason, retryDetail: retry.detail }),
    };
  };

  let report: Awaited<ReturnType<SegmindApi['status']>>;
  try {
    report = await deps.segmind.status(input.segmind.statusUrl);
  } catch (error) {
    const reason = upstreamRetryReason(error);
    if (reason === undefined) throw error;
    const retry = { reason, detail: error instanceof Error ? error.message : String(error) };
    let state: PollState;
    if (error instanceof SegmindRateLimitedError) {
      // Reset time in job seconds since the submit, the policy's frame (the clock may run scaled locally).
      const resetAt = error.resetAt;
      const throttledUntil =
        resetAt === undefined || Number.isNaN(resetAt.getTime())
          ? undefined
          : elapsedSeconds - clock.elapsedSeconds(resetAt.toISOString());
      state = schedule('THROTTLED', previousSegmindStatus, throttledUntil, retry);
    } else {
      state = schedule('UNAVAILABLE', previousSegmindStatus, undefined, retry);
    }
    await noteWaiting(deps.store, input.jobId, { ...retry, retryAt: state.nextPollAt }, clock.now());
    return state;
  }
  // The job waited on an earlier poll: the record stops saying so.
  if (input.poll?.retryReason !== undefined)
    await noteWaiting(deps.store, input.jobId, undefined, clock.now());

  const status = normaliseStatus(report.status);
  const now = clock.now().toISOString();
  if (status === 'COMPLETED') {
    return { status, pollCount, nextPollAt: now, strikes: 0, lastSegmindStatus: status };
  }
  if (status === 'FAILED') {
    const error = report.error?.trim() || 'Segmind reported FAILED without any detail';
    return { status, pollCount, nextPollAt: now, strikes: 0, lastSegmindStatus: status, error };
  }

  let recordedStatus = status;
  if (status !== previousSegmindStatus) {
    try {
      await deps.store.recordProgress(input.jobId, {
        ...(status === 'QUEUED' || status === 'PROCESSING' ? { status } : {}),
        lastSegmindStatus: status,
        pollCount,
        at: clock.now(),
      });
    } catch {
      // The record is bookkeeping; the poll's answer is what the workflow needs. Keeping the old status
      // in the state makes the next poll try this write again.
      recordedStatus = previousSegmindStatus;
    }
  }
  return schedule(status, recordedStatus);
};
