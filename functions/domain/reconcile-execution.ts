// Ends the job of a VideoJob execution that stopped without ending it. Every normal failure path records
// the failure itself, but an execution can also stop where no Catch runs: its own time limit, a
// StopExecution from outside, or a Fail reached because RecordFailure could not write. An EventBridge rule
// on the execution's status change brings those here. Idempotent, as at-least-once delivery requires:
// a job that already ended (the usual case) is left exactly as it is, and nothing is written twice.
import type { JobClock } from '#commons/clock';
import type { JobCanceller } from '#domain/cancel-job';
import {
  type ClassifiedFailure,
  causeDetail,
  classifyFailure,
  type FailureContext,
  MAX_ERROR_MESSAGE_LENGTH,
} from '#domain/failure';
import type { JobStore } from '#domain/job-store';
import { isTerminal, type TerminalStatus, type VideoJob } from '#domain/video-job';

/** The execution statuses that can leave a job unfinished (the rule's filter; SUCCEEDED never does). */
export const RECONCILED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ReconciledExecutionStatus = (typeof RECONCILED_EXECUTION_STATUSES)[number];

export const isReconciledExecutionStatus = (status: string): status is ReconciledExecutionStatus =>
  (RECONCILED_EXECUTION_STATUSES as readonly string[]).includes(status);

/** An execution as its status-change event describes it. */
export interface EndedExecution {
  jobId: string;
  status: ReconciledExecutionStatus;
  /** The execution's error and cause: a Fail state's, StopExecution's, or absent (a time-out has none). */
  error?: string;
  cause?: string;
}

export type ReconcileOutcome =
  /** The job had ended already; nothing was written. */
  | { kind: 'already-ended'; status: TerminalStatus }
  /** The job was still open and now says how the execution ended. */
  | { kind: 'reconciled'; status: TerminalStatus; errorCode: string; errorMessage: string }
  /** No record under this job id (an execution started without one that failed before creating it). */
  | { kind: 'missing' }
  /**
   * The job was STORING: its video is paid for and may already be in the bucket, so neither a failure nor
   * a cancel may end it. The sweeper resumes it from its request id and finishes the copy.
   */
  | { kind: 'left-for-sweeper'; status: 'STORING' };

export interface ReconcileExecutionDeps {
  store: Pick<JobStore, 'get' | 'recordFailure'> & JobCanceller;
  clock: Pick<JobClock, 'now'>;
}

export const EXECUTION_TIMED_OUT_MESSAGE =
  'The workflow execution ran past its time limit before the job ended';
export const EXECUTION_ABORTED_MESSAGE = 'The workflow execution was stopped before the job ended';
export const EXECUTION_FAILED_MESSAGE = 'The workflow execution failed without recording why';

const contextOf = (job: VideoJob): FailureContext =>
  job.segmindRequestId === undefined ? {} : { segmindRequestId: job.segmindRequestId };

const present = (text: string | undefined): string | undefined =>
  text === undefined || text.trim() === '' ? undefined : text;

/**
 * A failed execution is classified like a Catch's failure, so the record says what RecordFailure would
 * have written (a Fail reached because RecordFailure broke carries the job's own error: an expired
 * request still ends EXPIRED). A time-out is the execution's own, whatever step it was in.
 */
const failureOf = (
  status: 'FAILED' | 'TIMED_OUT',
  execution: EndedExecution,
  job: VideoJob,
): ClassifiedFailure => {
  const error = present(execution.error);
  const cause = present(execution.cause);
  if (status === 'TIMED_OUT') {
    const classified = classifyFailure(
      { Error: 'States.Timeout', ...(cause === undefined ? {} : { Cause: cause }) },
      contextOf(job),
    );
    return cause === undefined ? { ...classified, errorMessage: EXECUTION_TIMED_OUT_MESSAGE } : classified;
  }
  const classified = classifyFailure(
    { Error: error ?? '', ...(cause === undefined ? {} : { Cause: cause }) },
    contextOf(job),
  );
  return error === undefined && cause === undefined
    ? { ...classified, errorMessage: EXECUTION_FAILED_MESSAGE }
    : classified;
};

const ended = (job: VideoJob & { status: TerminalStatus }): ReconcileOutcome => ({
  kind: 'already-ended',
  status: job.status,
});

const isEnded = (job: VideoJob): job is VideoJob & { status: TerminalStatus } => isTerminal(job.status);

export const reconcileExecution = async (
  execution: EndedExecution,
  deps: ReconcileExecutionDeps,
): Promise<ReconcileOutcome> => {
  const { store, clock } = deps;
  // Read first: most events are about jobs that ended normally, and those must cost no write.
  const before = await store.get(execution.jobId);
  if (before === undefined) return { kind: 'missing' };
  if (isEnded(before)) return ended(before);
  if (before.status === 'STORING') return { kind: 'left-for-sweeper', status: 'STORING' };

  if (execution.status === 'ABORTED') {
    // The same write as a cancel through the API (CANCELLED, cancelledAt), which a stop from outside is.
    const detail = causeDetail(execution.cause);
    const reason =
      detail === undefined ? EXECUTION_ABORTED_MESSAGE : detail.slice(0, MAX_ERROR_MESSAGE_LENGTH);
    const cancelled = await store.cancel(execution.jobId, clock.now(), reason);
    if (cancelled.kind === 'missing') return { kind: 'missing' };
    if (cancelled.kind === 'already-ended') return { kind: 'already-ended', status: cancelled.status };
    if (cancelled.kind === 'storing') return { kind: 'left-for-sweeper', status: 'STORING' };
    return {
      kind: 'reconciled',
      status: 'CANCELLED',
      errorCode: cancelled.job.errorCode ?? 'JobCancelledError',
      errorMessage: cancelled.job.errorMessage ?? reason,
    };
  }

  const failure = failureOf(execution.status, execution, before);
  const after = await store.recordFailure(execution.jobId, failure, clock.now());
  if (after === undefined) return { kind: 'missing' };
  // The conditional write lost to another writer that ended the job first: report how it really ended.
  const lost = after.status !== failure.status || after.errorCode !== failure.errorCode;
  return lost && isEnded(after) ? ended(after) : { kind: 'reconciled', ...failure };
};
