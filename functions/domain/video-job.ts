// A VideoJob: the record we keep of one generation, and the data that flows between the workflow's states.
import type { VideoRequest } from '#domain/video-request';

export const JOB_STATUSES = [
  'PENDING',
  'QUEUED',
  'PROCESSING',
  'STORING',
  'COMPLETED',
  'FAILED',
  'EXPIRED',
  'TIMED_OUT',
  'CANCELLED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES = ['COMPLETED', 'FAILED', 'EXPIRED', 'TIMED_OUT', 'CANCELLED'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export const isTerminal = (status: JobStatus): status is TerminalStatus =>
  (TERMINAL_STATUSES as readonly string[]).includes(status);

export type JobSource = 'api' | 'upload' | 'batch' | 'cli';

/**
 * Where the submit stands, written before and after the one paid POST so that a retried Lambda can tell
 * "never sent" from "sent, answer lost". IN_FLIGHT and UNKNOWN both forbid another POST.
 */
export type SubmitState = 'IN_FLIGHT' | 'ACCEPTED' | 'NOT_CREATED' | 'UNKNOWN';

export interface StoredVideo {
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

/** Why a job is waiting and until when: a step answered "try again at T" (#domain/retry-later). */
export interface JobWaiting {
  /** e.g. `rate-limited`, `upstream-unavailable`, `video-invalid`. */
  reason: string;
  /** When the step runs again. */
  until: string;
  /** The error that made it wait. */
  detail?: string;
}

export interface SegmindMetrics {
  inferenceTime?: number;
  queueTime?: number;
  totalTime?: number;
  cost?: number;
  remainingCredits?: number;
}

/** The job record, one DynamoDB item keyed by `jobId`. Timestamps are ISO-8601 strings. */
export interface VideoJob {
  jobId: string;
  status: JobStatus;
  source: JobSource;
  request: VideoRequest;
  createdAt: string;
  updatedAt: string;
  /**
   * Who the job belongs to (#domain/job-owner): `iam:<principal>` or `api-key:<key id>` for the API caller
   * that created it, `s3:<bucket>` for an upload, `batch:<batchId>` for a batch line. Never changes.
   */
  owner?: string;
  batchId?: string;
  submitState?: SubmitState;
  submitAttempts?: number;
  segmindRequestId?: string;
  statusUrl?: string;
  responseUrl?: string;
  submittedAt?: string;
  processingAt?: string;
  storingAt?: string;
  completedAt?: string;
  failedAt?: string;
  /** When the job was cancelled (through the API); the status is then CANCELLED. */
  cancelledAt?: string;
  pollCount?: number;
  lastSegmindStatus?: string;
  /**
   * The execution driving the job when it is not the first one (named after the job id): set by the
   * sweeper when it resumes a job whose execution died (#domain/sweep-jobs).
   */
  executionName?: string;
  /** How many times the sweeper resumed the job. */
  resumeCount?: number;
  /** Set while the job waits to try a step again (a 429, an outage, a bad download); gone once it moves on. */
  waiting?: JobWaiting;
  video?: StoredVideo;
  metrics?: SegmindMetrics;
  errorCode?: string;
  errorMessage?: string;
  /**
   * Set while the submit waits for a slot of the shared request budget (status PENDING): its place among
   * the waiting submits and when it looks again. Shown by the API as `waiting`.
   */
  rateBudgetWait?: RateBudgetWait;
  /**
   * Fingerprint of the validated request (#domain/job-id fingerprintRequest), so that an Idempotency-Key
   * reused with a different body is refused instead of silently answered with the first job.
   */
  requestHash?: string;
}

/** A submit waiting for the shared request budget, as the record keeps it. */
export interface RateBudgetWait {
  /** 1 = next in line among the waiting submits. */
  place: number;
  /** When the submit looks again (ISO-8601). */
  until: string;
}

// ---- What flows through the state machine (JSONPath, each Task writes under its own resultPath) ----

/** Execution input. The execution name is the jobId. */
export interface VideoJobInput {
  jobId: string;
  request: VideoRequest;
}

/** `$.segmind`, written by Submit. */
export interface SubmittedJob {
  requestId: string;
  statusUrl: string;
  responseUrl: string;
  submittedAt: string;
}

/** What Submit returns, written to `$.segmind`: the accepted job and when to poll it first. */
export interface SubmitResult extends SubmittedJob {
  /** Absolute time of the first poll (the first Wait state's TimestampPath). */
  firstPollAt: string;
}

/**
 * `$.segmind` while the submit waits for the request budget (instead of a SubmitResult): the workflow
 * waits until `retryAt`, then runs Submit again with this as `$.segmind.budget`.
 */
export interface BudgetWait {
  budget: {
    retryAt: string;
    /** A deferred submit's ticket: its place in line, kept across looks. */
    ticket?: number;
    place?: number;
    /** A reserved slot: at `retryAt` the request goes without asking the budget again. */
    reservedAt?: string;
  };
}

/** `$.poll`, written by Submit (first wait) and by every PollStatus. */
export interface PollState {
  /** What the workflow's Choice branches on: COMPLETED, FAILED, or anything else to keep waiting. */
  status: string;
  pollCount: number;
  /** Absolute time of the next poll (the Wait state's TimestampPath). */
  nextPollAt: string;
  /** Consecutive throttled or failed polls, for backoff. */
  strikes: number;
  /** Segmind's detail when status is FAILED. */
  error?: string;
  /**
   * Why this poll did not learn the status and waits until `nextPollAt` (a RetryReason of #domain/retry-later,
   * e.g. `rate-limited`, `upstream-unavailable`), with the error's message.
   */
  retryReason?: string;
  retryDetail?: string;
  /**
   * The last status Segmind itself reported (QUEUED, PROCESSING, …), kept across THROTTLED polls so that
   * the job record is written only when Segmind's status really changes.
   */
  lastSegmindStatus?: string;
  /** A slot of the request budget reserved for the next poll (status WAITING_FOR_BUDGET): used, not asked for again. */
  budget?: { reservedAt: string };
}

/** `$.result`, written by FetchResult when it got the result (else a RetryLater, see #domain/fetch-result). */
export interface FetchedResult {
  videoUrl: string;
  fileSize?: number;
  contentType?: string;
  metrics: SegmindMetrics;
}

/** `$.failure`, written by every Catch (Step Functions' own shape) or by the FAILED branch. */
export interface WorkflowFailure {
  Error: string;
  Cause?: string;
}
