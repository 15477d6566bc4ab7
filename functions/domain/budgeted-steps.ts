// Submit and PollStatus drawing on the shared request budget (#domain/request-budget). Neither sleeps:
// without a slot now, each returns the time to come back, and the state machine waits until then (a
// TimestampPath Wait). A job never fails for lack of budget — and a submit that Segmind still answers
// with 429 (the budget is shared with traffic we do not see) waits for the reset the same way.
import type { JobClock } from '#commons/clock';
import { JobCancelledError, JobStateError } from '#domain/errors';
import {
  type FetchResultDeps,
  type FetchResultInput,
  type FetchResultOutput,
  fetchResult,
} from '#domain/fetch-result';
import { type PollJobDeps, type PollJobInput, pollJob } from '#domain/poll-job';
import {
  type BudgetDecision,
  type RequestBudget,
  WAITING_FOR_RATE_BUDGET,
  waitUntil,
} from '#domain/request-budget';
import { isRetryLater, type RetryLater } from '#domain/retry-later';
import { type SubmitJobDeps, type SubmitJobInput, submitJob } from '#domain/submit-job';
import { type BudgetWait, isTerminal, type PollState, type SubmitResult } from '#domain/video-job';
import { SegmindRateLimitedError } from '#segmind/errors';

/** PollState.status of a poll that waits for its reserved slot: the workflow's Choice just waits again. */
export const WAITING_FOR_BUDGET_STATUS = 'WAITING_FOR_BUDGET';

/** RetryLater.reason of a fetch that waits for its reserved slot of the budget. */
export const RATE_BUDGET_REASON = 'rate-budget';

/** When a 429 gives no usable reset time: one minute, the window Segmind counts requests in. */
const UNKNOWN_RESET_JOB_SECONDS = 60;

export interface SubmitWithinBudgetInput extends SubmitJobInput {
  /** `$.segmind.budget` from the previous look, when the submit waited. */
  budget?: BudgetWait['budget'];
}

export interface SubmitWithinBudgetDeps extends SubmitJobDeps {
  budget: RequestBudget;
  /** Told when the submit waits (for a log line or metric). */
  onWaiting?: (wait: BudgetWait['budget']) => void;
}

export const isBudgetWait = (result: SubmitResult | BudgetWait): result is BudgetWait => 'budget' in result;

/** The time to come back, or undefined when the slot is now. */
const laterThanNow = (decision: BudgetDecision, clock: JobClock): Date | undefined => {
  if (decision.kind === 'deferred') return decision.retryAt;
  return decision.slotAt.getTime() > clock.now().getTime() ? decision.slotAt : undefined;
};

/**
 * Shows the wait on the job record. A record that is missing (an execution started without one, e.g. a
 * batch child) waits without it until the claim creates it; an ended one (cancelled while waiting) stops here.
 */
const showWaiting = async (
  input: SubmitWithinBudgetInput,
  deps: SubmitWithinBudgetDeps,
  wait: { place: number; until: Date },
): Promise<void> => {
  const { store, clock } = deps;
  const shown = await store.recordRateBudgetWait(
    input.jobId,
    { place: wait.place, until: wait.until.toISOString() },
    clock.now(),
  );
  if (shown) return;
  const job = await store.get(input.jobId);
  if (job === undefined || !isTerminal(job.status)) return;
  if (job.status === 'CANCELLED') {
    throw new JobCancelledError(`Job ${job.jobId} was cancelled while it waited for the rate budget`);
  }
  throw new JobStateError(`Job ${job.jobId} already ended as ${job.status}; not submitting it`);
};

export const submitWithinBudget = async (
  input: SubmitWithinBudgetInput,
  deps: SubmitWithinBudgetDeps,
): Promise<SubmitResult | BudgetWait> => {
  const { clock } = deps;
  // A slot reserved on the previous look is ours now: use it without asking again.
  if (input.budget?.reservedAt === undefined) {
    const decision = await deps.budget.acquire('submit', clock.now(), input.budget?.ticket);
    const later = laterThanNow(decision, clock);
    if (later !== undefined) {
      let wait: BudgetWait['budget'];
      if (decision.kind === 'deferred') {
        await showWaiting(input, deps, { place: decision.place, until: later });
        wait = {
          retryAt: waitUntil(later, clock.timeScale),
          ticket: decision.ticket,
          place: decision.place,
        };
      } else {
        // A reservation a slot or two ahead: too short to be worth a write on the record.
        wait = { retryAt: waitUntil(later, clock.timeScale), reservedAt: later.toISOString() };
      }
      deps.onWaiting?.(wait);
      return { budget: wait };
    }
  }
  const { budget: _, ...job } = input;
  try {
    return await submitJob(job, deps);
  } catch (error) {
    // Segmind refused the POST with 429: it created nothing (submitJob recorded NOT_CREATED), so the job
    // waits for the reset instead of failing.
    if (!(error instanceof SegmindRateLimitedError)) throw error;
    const resetAt = error.resetAt;
    const until =
      resetAt !== undefined && !Number.isNaN(resetAt.getTime()) && resetAt.getTime() > clock.now().getTime()
        ? resetAt
        : clock.at(UNKNOWN_RESET_JOB_SECONDS);
    await showWaiting(input, deps, { place: 1, until });
    const wait = { retryAt: waitUntil(until, clock.timeScale), place: 1 };
    deps.onWaiting?.(wait);
    return { budget: wait };
  }
};

export interface PollWithinBudgetDeps extends PollJobDeps {
  budget: RequestBudget;
}

/**
 * One status poll inside the budget. Polls serve jobs already paid for, so the budget never refuses them;
 * when the next free slot lies ahead, it is reserved and the poll waits for it (the job record is left
 * alone: Segmind's status has not changed).
 */
export const pollWithinBudget = async (
  input: PollJobInput,
  deps: PollWithinBudgetDeps,
): Promise<PollState> => {
  const { clock } = deps;
  const held = input.poll?.status === WAITING_FOR_BUDGET_STATUS && input.poll.budget !== undefined;
  if (!held) {
    const decision = await deps.budget.acquire('status', clock.now());
    const later = laterThanNow(decision, clock);
    if (later !== undefined) {
      const previous = input.poll;
      return {
        status: WAITING_FOR_BUDGET_STATUS,
        pollCount: previous?.pollCount ?? 0,
        nextPollAt: waitUntil(later, clock.timeScale),
        strikes: previous?.strikes ?? 0,
        lastSegmindStatus:
          previous?.lastSegmindStatus ??
          (previous !== undefined && previous.status !== 'THROTTLED' ? previous.status : 'QUEUED'),
        budget: { reservedAt: later.toISOString() },
      };
    }
  }
  return pollJob(input, deps);
};

export interface FetchWithinBudgetDeps extends FetchResultDeps {
  budget: RequestBudget;
}

/** A fetch waiting for its reserved slot: a RetryLater the workflow already loops on, plus the slot. */
export interface BudgetRetryLater extends RetryLater {
  reason: typeof RATE_BUDGET_REASON;
  reservedAt: string;
}

const isBudgetRetry = (value: unknown): value is BudgetRetryLater =>
  isRetryLater(value) && value.reason === RATE_BUDGET_REASON && 'reservedAt' in value;

/**
 * The result fetch inside the budget: paid work, never refused. A slot ahead is reserved and waited for
 * through FetchResult's own "try again at T" loop; the attempt count is carried unchanged, so waiting for
 * the budget does not grow the backoff of real failures.
 */
export const fetchWithinBudget = async (
  input: FetchResultInput,
  deps: FetchWithinBudgetDeps,
): Promise<FetchResultOutput> => {
  const { clock } = deps;
  if (!isBudgetRetry(input.previous)) {
    const decision = await deps.budget.acquire('result', clock.now());
    const later = laterThanNow(decision, clock);
    if (later !== undefined) {
      const wait: BudgetRetryLater = {
        retryAt: waitUntil(later, clock.timeScale),
        reason: RATE_BUDGET_REASON,
        attempt: isRetryLater(input.previous) ? input.previous.attempt : 0,
        detail: WAITING_FOR_RATE_BUDGET,
        reservedAt: later.toISOString(),
      };
      return wait;
    }
  }
  // A previous answer that was only a budget wait is no failure: the real attempt count lives on in it.
  return fetchResult(input, deps);
};
