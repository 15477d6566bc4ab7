// The port the use cases keep job records through. The DynamoDB adapter implements it with single-item
// conditional writes only (the local DynamoDB has no transactions), so every method is one atomic step.
import type {
  JobStatus,
  JobWaiting,
  RateBudgetWait,
  SegmindMetrics,
  SubmitState,
  SubmittedJob,
  TerminalStatus,
  VideoJob,
} from '#domain/video-job';

/** The outcome of trying to become the one caller allowed to POST a job to Segmind. */
export type SubmitClaim =
  /** We hold the claim: the record now says IN_FLIGHT, and only we may POST. */
  | { kind: 'claimed'; job: VideoJob }
  /** A request id is already recorded: never POST again, carry on with this one. */
  | { kind: 'already-submitted'; submitted: SubmittedJob; job: VideoJob }
  /** An earlier attempt started a POST and never learned its outcome: another POST could double-bill. */
  | { kind: 'in-doubt'; submitState: SubmitState; job: VideoJob }
  /** The job ended (e.g. CANCELLED) before it was submitted. */
  | { kind: 'terminal'; status: TerminalStatus; job: VideoJob }
  /** There is no record for this job id. */
  | { kind: 'missing' };

/** A failure as recorded on the job: `errorCode` is the error's stable name. */
export interface RecordedError {
  errorCode: string;
  errorMessage: string;
}

export interface TerminalFailure extends RecordedError {
  status: TerminalStatus;
  /** Status polls the execution made, written with the failure when known. */
  pollCount?: number;
}

/** A poll saw Segmind's status change. `status` is omitted when Segmind sent a status we do not know. */
export interface JobProgress {
  status?: Extract<JobStatus, 'QUEUED' | 'PROCESSING'>;
  lastSegmindStatus: string;
  pollCount: number;
  at: Date;
}

export interface JobStore {
  /** Creates the record unless one exists; a duplicate start gets the existing record back. */
  create(job: VideoJob): Promise<{ created: boolean; job: VideoJob }>;
  /** A strongly consistent read. */
  get(jobId: string): Promise<VideoJob | undefined>;
  /**
   * Marks the submit IN_FLIGHT (and counts the attempt) only if no request id is recorded and no earlier
   * POST can be pending: submitState absent or NOT_CREATED, status PENDING.
   */
  claimSubmit(jobId: string, at: Date): Promise<SubmitClaim>;
  /**
   * Stores the request id Segmind returned (QUEUED, ACCEPTED). Returns the record as it ends: if the job was
   * cancelled meanwhile, the request id is still stored but the status stays CANCELLED.
   */
  recordSubmitted(jobId: string, submitted: SubmittedJob, at: Date): Promise<VideoJob>;
  /**
   * Notes that the submit waits for the request budget (PENDING, nothing submitted). False when the job
   * is missing, ended or submitted already.
   */
  recordRateBudgetWait(jobId: string, wait: RateBudgetWait, at: Date): Promise<boolean>;
  /** The POST provably created nothing: the next attempt may POST again. False if the claim was lost. */
  recordSubmitNotCreated(jobId: string, error: RecordedError, at: Date): Promise<boolean>;
  /** The POST may have created a job whose id we never learned: no attempt may POST again. */
  recordSubmitUnknown(jobId: string, error: RecordedError, at: Date): Promise<boolean>;
  /**
   * Moves the job forward (PENDING → QUEUED → PROCESSING) and notes Segmind's status. Never moves it
   * back and never touches STORING or a terminal record; returns false when it wrote nothing.
   */
  recordProgress(jobId: string, progress: JobProgress): Promise<boolean>;
  /**
   * Notes why the job waits and until when (or, given undefined, that it no longer does) unless the job has
   * ended. Bookkeeping for the job view: callers ignore its failures. False when it wrote nothing.
   */
  recordWaiting(jobId: string, waiting: JobWaiting | undefined, at: Date): Promise<boolean>;
  /** Stores Segmind's cost and timings (and clears `waiting`: the result is in). False when there is no record. */
  recordMetrics(jobId: string, metrics: SegmindMetrics, at: Date): Promise<boolean>;
  /**
   * STORING, just before the video is copied. Throws JobCancelledError if the job was cancelled (the late
   * result is discarded) and JobStateError if it is missing or already ended otherwise. Idempotent.
   */
  markStoring(jobId: string, at: Date): Promise<VideoJob>;
  /**
   * Ends the job with a failure unless it already ended: a terminal status is never overwritten. Returns the
   * record as it ends (a CANCELLED job stays CANCELLED), or undefined when there is no record.
   */
  recordFailure(jobId: string, failure: TerminalFailure, at: Date): Promise<VideoJob | undefined>;
}
