// The obvious alternatives to our polling policy, on the same virtual clock. Each is the loop of Segmind's
// official Python SDK (`AsyncJob.wait`: poll the status at once after the submit, sleep, poll again, and
// fetch the result when a poll sees COMPLETED), differing only in how long it sleeps between polls.

/** What one polling strategy spent on one job and how late it noticed the completion. */
export interface PollOutcome {
  /** Upstream requests for the video: the submit, every status poll, and the result fetch. */
  requests: number;
  polls: number;
  /** Seconds from the completion to the poll that saw it; Infinity when the loop gave up first. */
  detectionDelaySeconds: number;
  gaveUp: boolean;
}

export interface BaselineStrategy {
  id: string;
  label: string;
  /** Where the strategy comes from, for the report. */
  note: string;
  /** Seconds slept after the poll with this index (0 = the poll made right after the submit). */
  sleepAfterPoll: (pollIndex: number) => number;
  /** The loop raises after a non-terminal poll at or past this many seconds (the SDK's `timeout`). */
  deadlineSeconds: number;
}

/** `AsyncJob.wait(timeout=600)`: the SDK's default deadline. */
export const SDK_DEFAULT_TIMEOUT_SECONDS = 600;

export const fixedInterval = (seconds: number, note: string, tag?: string): BaselineStrategy => {
  if (!(seconds > 0)) throw new RangeError(`fixedInterval: seconds must be positive, got ${seconds}`);
  return {
    id: `fixed-${seconds}s`,
    label: `fixed ${seconds} s${tag ? ` (${tag})` : ''}`,
    note,
    sleepAfterPoll: () => seconds,
    deadlineSeconds: SDK_DEFAULT_TIMEOUT_SECONDS,
  };
};

/** Sleeps `startSeconds`, then twice as long after each poll, never more than `capSeconds`. */
export const doublingInterval = (
  startSeconds: number,
  capSeconds: number,
  note: string,
): BaselineStrategy => {
  if (!(startSeconds > 0 && capSeconds >= startSeconds)) {
    throw new RangeError(`doublingInterval: need 0 < start ≤ cap, got ${startSeconds} and ${capSeconds}`);
  }
  return {
    id: `doubling-${startSeconds}s-${capSeconds}s`,
    label: `${startSeconds} s doubling to ${capSeconds} s`,
    note,
    sleepAfterPoll: (pollIndex) => Math.min(startSeconds * 2 ** Math.min(pollIndex, 30), capSeconds),
    deadlineSeconds: SDK_DEFAULT_TIMEOUT_SECONDS,
  };
};

export const BASELINES: readonly BaselineStrategy[] = Object.freeze([
  fixedInterval(2, "the Segmind SDK's documented usage, job.wait(interval=2.0)", 'SDK docs'),
  fixedInterval(1, "the Segmind SDK's default interval (DEFAULT_POLL_INTERVAL_S = 1.0)", 'SDK default'),
  fixedInterval(30, 'a cautious script: the SDK loop with interval=30'),
  doublingInterval(30, 60, 'a script with backoff: 30 s, then 60 s between polls'),
]);

/** Loop iterations no strategy with a positive sleep reaches before any sane deadline. */
const MAX_POLLS = 1_000_000;

/**
 * Runs the SDK-style loop against a job that reports COMPLETED from `completesAtSeconds` (seconds after
 * the accepted submit). Request round trips are taken as instantaneous, as in simulatePolling.
 */
export const simulateBaseline = (strategy: BaselineStrategy, completesAtSeconds: number): PollOutcome => {
  let at = 0;
  for (let polls = 1; polls <= MAX_POLLS; polls += 1) {
    if (at >= completesAtSeconds) {
      return { requests: polls + 2, polls, detectionDelaySeconds: at - completesAtSeconds, gaveUp: false };
    }
    if (at >= strategy.deadlineSeconds) {
      return { requests: polls + 1, polls, detectionDelaySeconds: Number.POSITIVE_INFINITY, gaveUp: true };
    }
    const sleep = strategy.sleepAfterPoll(polls - 1);
    if (!(sleep > 0)) throw new RangeError(`${strategy.id}: sleeps must be positive, got ${sleep}`);
    at += sleep;
  }
  throw new Error(`${strategy.id}: no outcome after ${MAX_POLLS} polls`);
};

/**
 * Status polls of a fixed cadence written as a state machine loop (Submit → Wait(interval) → PollStatus →
 * Choice → Wait …): every poll follows a full wait, so the first is at one interval, not at once.
 */
export const stateMachineLoopPolls = (completesAtSeconds: number, intervalSeconds: number): number => {
  if (!(intervalSeconds > 0))
    throw new RangeError(`intervalSeconds must be positive, got ${intervalSeconds}`);
  return Math.max(1, Math.ceil(completesAtSeconds / intervalSeconds));
};
