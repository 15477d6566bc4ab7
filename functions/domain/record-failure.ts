// RecordFailure: where every failed path of the workflow ends. It turns whatever the Catch handed over into
// a terminal status on the job record — without ever overwriting one that is already terminal (a job
// cancelled meanwhile stays CANCELLED) — and reports how the job really ended.
import type { JobClock } from '#commons/clock';
import { type ClassifiedFailure, classifyFailure, MAX_ERROR_MESSAGE_LENGTH } from '#domain/failure';
import type { JobStore } from '#domain/job-store';
import { isTerminal, type TerminalStatus, type VideoJob, type WorkflowFailure } from '#domain/video-job';

export interface RecordFailureInput {
  jobId: string;
  /** Normally `{Error, Cause}` from a Catch; anything else is tolerated, never thrown on. */
  failure: unknown;
  /** Status polls the execution made (`$.poll.pollCount`); absent when it failed before the first poll. */
  pollCount?: number;
}

export interface FailureOutcome {
  status: TerminalStatus;
  errorCode: string;
  errorMessage: string;
}

export interface RecordFailureDeps {
  store: JobStore;
  clock: Pick<JobClock, 'now'>;
  classify?: typeof classifyFailure;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringify = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
};

/** Step Functions' `{Error, Cause}` from whatever arrived: a bare string, an object, or nothing at all. */
export const toWorkflowFailure = (raw: unknown): WorkflowFailure => {
  if (typeof raw === 'string' && raw.trim() !== '') return { Error: raw.trim() };
  if (!isRecord(raw)) return { Error: 'UnknownError' };
  const error = typeof raw.Error === 'string' && raw.Error.trim() !== '' ? raw.Error : 'UnknownError';
  const cause = stringify(raw.Cause);
  return cause === undefined ? { Error: error } : { Error: error, Cause: cause };
};

const classifySafely = (
  failure: WorkflowFailure,
  job: VideoJob | undefined,
  classify: typeof classifyFailure,
): ClassifiedFailure => {
  const fallback: ClassifiedFailure = {
    status: 'FAILED',
    errorCode: failure.Error.slice(0, MAX_ERROR_MESSAGE_LENGTH),
    errorMessage: (failure.Cause ?? failure.Error).slice(0, MAX_ERROR_MESSAGE_LENGTH),
  };
  try {
    return classify(
      failure,
      job?.segmindRequestId === undefined ? {} : { segmindRequestId: job.segmindRequestId },
    );
  } catch {
    // A bug in classification must not keep the job from ending.
    return fallback;
  }
};

/**
 * The record only learns the poll count when Segmind's status changes, and a poll that failed after
 * writing it never reached the state: the larger of the two is the closer count.
 */
const pollCountToRecord = (fromState: number | undefined, job: VideoJob): number | undefined => {
  if (fromState === undefined || !Number.isSafeInteger(fromState) || fromState < 0) return undefined;
  return Math.max(fromState, job.pollCount ?? 0);
};

/** How the record says the job ended, for a job that was already terminal before this failure. */
const outcomeOf = (job: VideoJob & { status: TerminalStatus }): FailureOutcome => ({
  status: job.status,
  errorCode: job.errorCode ?? job.status,
  errorMessage: job.errorMessage ?? `The job had already ended as ${job.status}`,
});

const isTerminalJob = (job: VideoJob | undefined): job is VideoJob & { status: TerminalStatus } =>
  job !== undefined && isTerminal(job.status);

export const recordFailure = async (
  input: RecordFailureInput,
  deps: RecordFailureDeps,
): Promise<FailureOutcome> => {
  const failure = toWorkflowFailure(input.failure);
  // Read first: the record knows the Segmind request id the message should name, and whether it ended.
  const before = await deps.store.get(input.jobId);
  if (isTerminalJob(before)) return outcomeOf(before);

  const classified = classifySafely(failure, before, deps.classify ?? classifyFailure);
  if (before === undefined) return classified;
  const pollCount = pollCountToRecord(input.pollCount, before);
  const after = await deps.store.recordFailure(
    input.jobId,
    pollCount === undefined ? classified : { ...classified, pollCount },
    deps.clock.now(),
  );
  if (after === undefined || !isTerminalJob(after)) return classified;
  return after.status === classified.status && after.errorCode === classified.errorCode
    ? classified
    : outcomeOf(after);
};
