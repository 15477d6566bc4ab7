// Cancelling a job: mark the record CANCELLED (unless it already ended), then stop its execution.
// The record goes first: a stopped execution runs no Catch, so a stop without the mark would leave the
// record unfinished forever, while a mark without a stop is harmless — the workflow checks the record
// before storing and discards a late Segmind result (Segmind itself cannot cancel).
import type { VideoWorkflow } from '#domain/start-job';
import type { TerminalStatus, VideoJob } from '#domain/video-job';

export type CancelOutcome =
  | { kind: 'cancelled'; job: VideoJob }
  | { kind: 'already-ended'; status: TerminalStatus; job: VideoJob }
  | { kind: 'missing' };

/** The one conditional write of a cancel: CANCELLED unless terminal, in one step. */
export interface JobCanceller {
  cancel(jobId: string, at: Date, reason: string): Promise<CancelOutcome>;
}

export interface CancelJobPorts {
  jobs: JobCanceller;
  workflow: Pick<VideoWorkflow, 'stop'>;
  now: () => Date;
}

export interface CancelJobResult {
  job: VideoJob;
  /** What happened to the execution. `stop-failed` still leaves a cancelled job: see the header comment. */
  execution: 'stopped' | 'not-running' | 'stop-failed';
  stopError?: unknown;
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

export const CANCEL_REASON = 'Cancelled through the API';

export const cancelJob = async (ports: CancelJobPorts, jobId: string): Promise<CancelJobResult> => {
  const outcome = await ports.jobs.cancel(jobId, ports.now(), CANCEL_REASON);
  if (outcome.kind === 'missing') throw new JobNotFoundError(jobId);
  if (outcome.kind === 'already-ended') throw new JobAlreadyEndedError(jobId, outcome.status);
  try {
    const execution = await ports.workflow.stop(jobId, { error: 'JobCancelledError', cause: CANCEL_REASON });
    return { job: outcome.job, execution };
  } catch (stopError) {
    return { job: outcome.job, execution: 'stop-failed', stopError };
  }
};
