// When to ask Segmind about a job next. Segmind has no webhooks and its rate limit counts every request,
// so each poll spends throughput; each second between completion and the poll that sees it is latency.
// This pure function trades the two off with named knobs. Time and randomness come in as arguments.
import { expectedCompletionSeconds, type JobShape } from '#domain/expected-duration';

export interface PollContext {
  job: JobShape;
  /** Job seconds since Segmind accepted the submit. */
  elapsedSeconds: number;
  /**
   * 'SUBMITTED' before the first poll; then what the last poll saw: QUEUED | PROCESSING | any unknown
   * string | 'THROTTLED' (it got a 429) | 'UNAVAILABLE' (it failed transiently). The caller handles
   * COMPLETED and FAILED itself and does not ask for another poll.
   */
  lastStatus: string;
  /** Polls done so far. */
  pollCount: number;
  /** Consecutive THROTTLED / UNAVAILABLE / unknown-status polls, the last one included (see nextStrikes). */
  strikes: number;
  /** Elapsed seconds at which Segmind's rate-limit window resets (from `x-rate-limit-reset-at-utc`). */
  throttledUntilSeconds?: number;
  /** A uniform draw from [0, 1) for jitter, supplied by the caller. */
  random: number;
  /**
   * Optional learned prior (e.g. from the metrics of recently completed jobs of the same shape); when
   * absent, expectedCompletionSeconds(job) is used.
   */
  expectedSeconds?: number;
}

export type PollDecision = { kind: 'wait'; seconds: number } | { kind: 'give-up'; reason: string };

export interface PollingPolicy {
  /** The first poll lands at this fraction of the expected completion time. */
  firstPollFraction: number;
  /** Between the first poll and the end of the window, poll this often. */
  intervalSeconds: number;
  /** Scheduled waits vary by ± this fraction, so jobs started together do not poll in lockstep. */
  jitterFraction: number;
  /** The window of short intervals ends at this multiple of the expected completion time. */
  overrunAfterFraction: number;
  /** Past the window, each second of overrun lengthens the interval by this many seconds. */
  overrunSlope: number;
  /** Cap on the interval while the job is PROCESSING (or unknown) past its window. */
  overrunMaxIntervalSeconds: number;
  /** A job still QUEUED at this multiple of its expected completion time is in a queue backlog. */
  queuedBacklogAfterFraction: number;
  /** In a backlog, each second past the threshold lengthens the interval by this many seconds. */
  queuedBacklogSlope: number;
  /** Cap on the interval while the job waits in a backlog. */
  queuedMaxIntervalSeconds: number;
  /** After a 429 with a known reset time, wait until the reset plus up to this many seconds. */
  throttleJitterSeconds: number;
  /** After a 429 without a usable reset time: full-jitter exponential backoff from this base... */
  throttleBackoffBaseSeconds: number;
  /** ...and no 429 ever makes us wait longer than this (Segmind's window is one minute). */
  throttleMaxWaitSeconds: number;
  /** After a transient failure (5xx, network): equal-jitter exponential backoff from this base... */
  unavailableBackoffBaseSeconds: number;
  /** ...capped here. */
  unavailableMaxWaitSeconds: number;
  /** No wait is shorter than this, except the last one clamped to the deadline. */
  minWaitSeconds: number;
  /** Give up on the job this many seconds after the submit. */
  deadlineSeconds: number;
}

/**
 * The trade-off, for the default 2k / 8 s job (expected ≈ 47 s) whose real latency varies ±20 %:
 * - Completions are spread over roughly 38–57 s. The first poll at 0.86 × 47 ≈ 40.5 s and then one every
 *   2 s cover that spread with a median of 5 polls (7 requests with submit and result) and a detection
 *   delay of at most one interval, half of it on average. A shorter interval buys delay with requests,
 *   an earlier first poll spends requests on jobs that cannot be done yet.
 * - Past 1.25 × the expectation a job is an outlier (a cold worker, a slow node): the interval grows by
 *   0.1 s per second of overrun, so detection delay stays about 10 % of the lateness while the request
 *   count grows only logarithmically, and it is capped at 10 s.
 * - QUEUED at the expected completion time means no worker has even started it: the job still needs a
 *   whole inference, so we back off faster (0.25 s per second) up to 15 s. If Segmind ever skipped
 *   PROCESSING, this would cost detection delay only for jobs already later than expected.
 * - Throttling and failures back off exponentially with jitter, capped at 60 s and 30 s.
 * - The 40-minute deadline leaves 20 minutes of Segmind's one-hour retention to fetch the result.
 */
export const DEFAULT_POLLING_POLICY: PollingPolicy = Object.freeze({
  firstPollFraction: 0.86,
  intervalSeconds: 2,
  jitterFraction: 0.1,
  overrunAfterFraction: 1.25,
  overrunSlope: 0.1,
  overrunMaxIntervalSeconds: 10,
  queuedBacklogAfterFraction: 1,
  queuedBacklogSlope: 0.25,
  queuedMaxIntervalSeconds: 15,
  throttleJitterSeconds: 3,
  throttleBackoffBaseSeconds: 4,
  throttleMaxWaitSeconds: 60,
  unavailableBackoffBaseSeconds: 2,
  unavailableMaxWaitSeconds: 30,
  minWaitSeconds: 1,
  deadlineSeconds: 40 * 60,
});

/** The documented statuses a job can wait in; anything else that is not an error marker is a strike. */
const WAITING_STATUSES: ReadonlySet<string> = new Set(['SUBMITTED', 'QUEUED', 'PROCESSING']);

/** Whether a poll that saw this status counts as a strike (throttled, failed, or a status we do not know). */
export const isStrike = (status: string): boolean => !WAITING_STATUSES.has(status);

/** The strike count after a poll that saw `status`: one more on a strike, back to zero otherwise. */
export const nextStrikes = (previous: number, status: string): number =>
  isStrike(status) ? Math.max(0, Number.isFinite(previous) ? previous : 0) + 1 : 0;

/** A policy with some knobs changed, checked so that a typo cannot produce zero or negative waits. */
export const definePollingPolicy = (overrides: Partial<PollingPolicy> = {}): PollingPolicy => {
  const policy = { ...DEFAULT_POLLING_POLICY, ...overrides };
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`polling policy: ${name} must be a finite number ≥ 0, got ${String(value)}`);
    }
  }
  if (policy.minWaitSeconds <= 0 || policy.intervalSeconds < policy.minWaitSeconds) {
    throw new RangeError('polling policy: need 0 < minWaitSeconds ≤ intervalSeconds');
  }
  if (policy.jitterFraction >= 1) {
    throw new RangeError('polling policy: jitterFraction must be below 1');
  }
  if (policy.deadlineSeconds <= 0) {
    throw new RangeError('polling policy: deadlineSeconds must be positive');
  }
  return Object.freeze(policy);
};

/** Floating-point slack: an elapsed time this close to the deadline counts as at the deadline. */
const DEADLINE_EPSILON_SECONDS = 1e-6;

const finiteOr = (value: number | undefined, fallback: number): number =>
  value !== undefined && Number.isFinite(value) ? value : fallback;

const unitDraw = (random: number): number =>
  Number.isFinite(random) ? Math.min(Math.max(random, 0), 0.999_999) : 0.5;

const formatSeconds = (seconds: number): string => `${Math.round(seconds)} s`;

/** The next wait for a job that is waiting normally (QUEUED, PROCESSING, unknown, or not yet polled). */
const scheduledWait = (
  status: string,
  elapsed: number,
  expected: number,
  draw: number,
  policy: PollingPolicy,
): number => {
  let interval = policy.intervalSeconds;
  const overrunFrom = expected * policy.overrunAfterFraction;
  if (elapsed > overrunFrom) {
    interval = Math.min(
      policy.intervalSeconds + policy.overrunSlope * (elapsed - overrunFrom),
      Math.max(policy.intervalSeconds, policy.overrunMaxIntervalSeconds),
    );
  }
  const backlogFrom = expected * policy.queuedBacklogAfterFraction;
  if (status === 'QUEUED' && elapsed > backlogFrom) {
    const backlogInterval = Math.min(
      policy.intervalSeconds + policy.queuedBacklogSlope * (elapsed - backlogFrom),
      Math.max(policy.intervalSeconds, policy.queuedMaxIntervalSeconds),
    );
    interval = Math.max(interval, backlogInterval);
  }
  const jitter = policy.jitterFraction * (2 * draw - 1);
  // Nothing to learn before the job can plausibly be done, so the first poll (and any poll after an early
  // throttled or failed one) waits for that moment instead of the interval.
  const untilFirstPoll = expected * policy.firstPollFraction - elapsed + policy.intervalSeconds * jitter;
  return Math.max(interval * (1 + jitter), untilFirstPoll);
};

/** Exponential backoff ceiling for the n-th consecutive strike (n ≥ 1). */
const backoffCeiling = (base: number, cap: number, strikes: number): number =>
  Math.min(cap, base * 2 ** Math.min(Math.max(finiteOr(strikes, 1), 1) - 1, 30));

const throttledWait = (
  context: PollContext,
  elapsed: number,
  draw: number,
  policy: PollingPolicy,
): number => {
  const resetAt = context.throttledUntilSeconds;
  if (resetAt !== undefined && Number.isFinite(resetAt) && resetAt > elapsed) {
    // Everyone throttled by the same window wakes at its reset; the jitter spreads them out.
    return Math.min(resetAt - elapsed + draw * policy.throttleJitterSeconds, policy.throttleMaxWaitSeconds);
  }
  // No usable reset time: full jitter, the best spread when many clients compete for one budget.
  return (
    draw * backoffCeiling(policy.throttleBackoffBaseSeconds, policy.throttleMaxWaitSeconds, context.strikes)
  );
};

const unavailableWait = (context: PollContext, draw: number, policy: PollingPolicy): number => {
  // Equal jitter: a guaranteed half of the ceiling, so a recovering service is never hammered.
  const ceiling = backoffCeiling(
    policy.unavailableBackoffBaseSeconds,
    policy.unavailableMaxWaitSeconds,
    context.strikes,
  );
  return ceiling / 2 + (draw * ceiling) / 2;
};

/** Decide when to poll next, or that the job has run out of time. */
export const nextPoll = (
  context: PollContext,
  policy: PollingPolicy = DEFAULT_POLLING_POLICY,
): PollDecision => {
  // An unreadable elapsed time restarts nothing: NaN counts as "just submitted", +Infinity as past due.
  const elapsed = Number.isNaN(context.elapsedSeconds) ? 0 : Math.max(0, context.elapsedSeconds);
  const remaining = policy.deadlineSeconds - elapsed;
  if (remaining <= DEADLINE_EPSILON_SECONDS) {
    return {
      kind: 'give-up',
      reason:
        `no terminal status from Segmind ${formatSeconds(elapsed)} after submit ` +
        `(deadline ${formatSeconds(policy.deadlineSeconds)}); last status ${context.lastStatus || '(none)'} ` +
        `after ${Math.max(0, finiteOr(context.pollCount, 0))} polls`,
    };
  }

  const prior = finiteOr(context.expectedSeconds, Number.NaN);
  const expected = prior > 0 ? prior : expectedCompletionSeconds(context.job);
  const draw = unitDraw(context.random);
  // However long a throttle or outage asks us to wait, a poll before the first useful moment is wasted.
  const notBeforeFirstPoll = expected * policy.firstPollFraction - elapsed;

  let wait: number;
  switch (context.lastStatus) {
    case 'THROTTLED':
      wait = Math.max(throttledWait(context, elapsed, draw, policy), notBeforeFirstPoll);
      break;
    case 'UNAVAILABLE':
      wait = Math.max(unavailableWait(context, draw, policy), notBeforeFirstPoll);
      break;
    default:
      // QUEUED, PROCESSING, SUBMITTED, or a status we do not know: non-terminal, so keep to the schedule.
      // (An unknown status still counts as a strike for the caller, which bounds it with the deadline.)
      wait = scheduledWait(context.lastStatus, elapsed, expected, draw, policy);
  }

  wait = Math.max(wait, policy.minWaitSeconds);
  return { kind: 'wait', seconds: Math.min(wait, remaining) };
};
