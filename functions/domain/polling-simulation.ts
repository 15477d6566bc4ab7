// Runs the polling policy against one imagined job on a virtual clock (no sleeping), to count what a
// policy costs in requests and detection delay. Used by the unit tests and the benchmark.
import type { JobShape } from '#domain/expected-duration';
import {
  DEFAULT_POLLING_POLICY,
  nextPoll,
  nextStrikes,
  type PollContext,
  type PollingPolicy,
} from '#domain/polling-policy';

/** What one simulated poll sees; `throttledUntilSeconds` only matters with status THROTTLED. */
export interface SimulatedPoll {
  status: string;
  throttledUntilSeconds?: number;
}

export interface PollingSimulationInput {
  job: JobShape;
  /** Elapsed seconds at which Segmind starts reporting COMPLETED. */
  completesAtSeconds: number;
  policy?: PollingPolicy;
  /** Source of the uniform [0, 1) draws the policy's jitter uses. */
  random: () => number;
  /** Elapsed seconds already gone when the first wait is decided (the rest of the Submit step). Default 0. */
  submitToFirstPoll?: number;
  /** Before this elapsed time a not-yet-completed job reports QUEUED, after it PROCESSING. Default 0. */
  queuedUntilSeconds?: number;
  /** Seconds each poll takes from its scheduled time to the next decision (Lambda + HTTP). Default 0. */
  pollOverheadSeconds?: number;
  /**
   * Overrides what the poll at `elapsedSeconds` (the `pollIndex`-th, from 0) sees, e.g. to inject 429s,
   * outages or unknown statuses; return undefined to use the default job model.
   */
  respond?: (elapsedSeconds: number, pollIndex: number) => SimulatedPoll | undefined;
}

export interface PollingSimulationResult {
  /** Upstream requests for the video: the submit, every poll, and the result fetch when completed. */
  requests: number;
  /** Seconds from completion to the poll that saw it; Infinity when the policy gave up first. */
  detectionDelaySeconds: number;
  polls: number;
  gaveUp: boolean;
  /** The give-up reason, when the policy gave up. */
  reason?: string;
}

/** More polls than any policy with a ≥ 1 s minimum wait can make before a 1-hour deadline. */
const MAX_POLLS = 100_000;

export const simulatePolling = (input: PollingSimulationInput): PollingSimulationResult => {
  const policy = input.policy ?? DEFAULT_POLLING_POLICY;
  const overhead = input.pollOverheadSeconds ?? 0;
  const queuedUntil = input.queuedUntilSeconds ?? 0;

  const seenAt = (elapsed: number, pollIndex: number): SimulatedPoll => {
    const injected = input.respond?.(elapsed, pollIndex);
    if (injected !== undefined) return injected;
    if (elapsed >= input.completesAtSeconds) return { status: 'COMPLETED' };
    return { status: elapsed < queuedUntil ? 'QUEUED' : 'PROCESSING' };
  };

  let context: PollContext = {
    job: input.job,
    elapsedSeconds: input.submitToFirstPoll ?? 0,
    lastStatus: 'SUBMITTED',
    pollCount: 0,
    strikes: 0,
    random: input.random(),
  };

  for (let polls = 0; polls < MAX_POLLS; ) {
    const decision = nextPoll(context, policy);
    if (decision.kind === 'give-up') {
      return {
        requests: 1 + polls,
        detectionDelaySeconds: Number.POSITIVE_INFINITY,
        polls,
        gaveUp: true,
        reason: decision.reason,
      };
    }
    const pollAt = context.elapsedSeconds + decision.seconds;
    const seen = seenAt(pollAt, polls);
    polls += 1;
    if (seen.status === 'COMPLETED' || seen.status === 'FAILED') {
      // A FAILED job needs no result fetch, but the status poll already carried Segmind's detail.
      return {
        requests: 1 + polls + (seen.status === 'COMPLETED' ? 1 : 0),
        detectionDelaySeconds: Math.max(0, pollAt - input.completesAtSeconds),
        polls,
        gaveUp: false,
      };
    }
    context = {
      job: input.job,
      elapsedSeconds: pollAt + overhead,
      lastStatus: seen.status,
      pollCount: polls,
      strikes: nextStrikes(context.strikes, seen.status),
      random: input.random(),
      ...(seen.throttledUntilSeconds === undefined
        ? {}
        : { throttledUntilSeconds: seen.throttledUntilSeconds }),
    };
  }
  throw new Error(`polling simulation: no decision after ${MAX_POLLS} polls; the policy never waits`);
};
