// Cancelling a job: mark the record CANCELLED (only before STORING), then stop its execution.
// The record goes first: a stopped execution runs no Catch, so a stop without the mark would leave the
// record unfinished forever, while a mark without a stop is harmless — the workflow checks the record
// before storing and discards a late Segmind result (Segmind itself cannot cancel).
//
// The rule against a cancel racing the copy: once the job is STORING, Segmind has reported COMPLETED and
// billed it, so the video is kept — the cancel is refused (409) and the job ends COMPLETED. The cancel and
// the move to STORING are conditional writes on the same item: either the cancel lands first, and the
// workflow stores nothing, or STORING does, and the cancel is refused. There is never an object under a
// CANCELLED job, nor a COMPLETED job without its object.
import type { VideoWorkflow } from '#domain/start-job';
import type { TerminalStatus, VideoJob } from '#domain/video-job';

export type CancelOutcome =
  | { kind: 'cancelled'; job: VideoJob }
  | { kind: 'already-ended'; status: TerminalStatus; job: VideoJob }
  /** The video is paid for and being copied: the job will end COMPLETED, not CANCELLED. */
  | { kind: 'storing'; job: VideoJob }
  | { kind: 'missing' };

/** The one conditional write of a cancel: CANCELLED from PENDING, QUEUED or PROCESSING, in one step. */
export interface JobCanceller {
  cancel(jobId: string, at: Date, reason: string): Promise<CancelOutcome>;
}

/**
 * Announces a job that ended outside the state machine. A stopped execution runs none of its states, so the
 * event its RecordFailure path would have published comes from the one cancel that won the conditional write.
 */
export interface JobEndedPublisher {
  jobEnded(job: VideoJob): Promise<void>;
}

export interface CancelJobPorts {
  jobs: JobCanceller;
  workflow: Pick<VideoWorkflow, 'stop'>;
  events: JobEndedPublisher;
  now: () => Date;
}

export interface CancelJobResult {
  job: VideoJob;
  /** What happened to the execution. `stop-failed` still leaves a cancelled job: see the header comment. */
  execution: 'stopped' | 'not-running' | 'stop-failed';
  stopError?: unknown;
  /** Set when the job's end could not be announced: the job is cancelled all the same. */
  eventError?: unknown;
}

export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  readonly jobId: string;
  constructor(jobId: string) {
    super(`there is no job ${jobId}`);
    this.jobId = jobId;
  }
}

/** Only a job that has not ended can be cancelled. */
export class JobAlreadyEndedError extends Error {
  override readonly name = 'JobAlreadyEndedError';
  readonly jobId: string;
  readonly status: TerminalStatus;
  constructor(jobId: string, status: TerminalStatus) {
    super(`job ${jobId} already ended as ${status}; only a job that is still running can be cancelled`);
    this.jobId = jobId;
    this.status = status;
  }
}

/** The job is STORING: Segmind finished (and billed) it, and its video is being copied. */
export class JobBeingStoredError extends Error {
  override readonly name = 'JobBeingStoredError';
  readonly jobId: string;
  constructor(jobId: string) {
    super(
      `job ${jobId} can no longer be cancelled: Segmind has finished (and billed) it and its video is ` +
        'being stored; the job will end COMPLETED',
    );
    this.jobId = jobId;
  }
}

export const CANCEL_REASON = 'Cancelled through the API';

export const cancelJob = async (ports: CancelJobPorts, jobId: string): Promise<CancelJobResult> => {
  const outcome = await ports.jobs.cancel(jobId, ports.now(), CANCEL_REASON);
  if (outcome.kind === 'missing') throw new JobNotFoundError(jobId);
  if (outcome.kind === 'already-ended') throw new JobAlreadyEndedError(jobId, outcome.status);
  if (outcome.kind === 'storing') throw new JobBeingStoredError(jobId);
  let result: CancelJobResult;
  try {
    // The job's execution: named after the job, unless the sweeper resumed it under another name.
    const execution = await ports.workflow.stop(outcome.job.executionName ?? jobId, {
      error: 'JobCancelledError',
      cause: CANCEL_REASON,
    });
    result = { job: outcome.job, execution };
  } catch (stopError) {
    result = { job: outcome.job, execution: 'stop-failed', stopError };
  }
  try {
    await ports.events.jobEnded(outcome.job);
  } catch (eventError) {
    return { ...result, eventError };
  }
  return result;
};
