// What a batch came to, line by line: the job records are the truth (every job ends in exactly one terminal
// status), the batch's own lines say which lines were rejected and which job each runnable line is. Pure.
import type { BatchLine, ManifestLocation } from '#domain/batch-manifest';
import { isRunnable } from '#domain/batch-manifest';
import { isTerminal, type JobStatus, type VideoJob } from '#domain/video-job';

/** A line's outcome: its job's status, or why it has no job. */
export type BatchLineStatus =
  | JobStatus
  /** The line is not a valid request: no job was started for it. */
  | 'INVALID'
  /** A runnable line whose job has no record: the batch stopped before it, or its start failed early. */
  | 'NOT_STARTED';

/**
 * COMPLETED: every line's video is stored. COMPLETED_WITH_FAILURES: every line ended, some without a
 * video (invalid, failed, expired, …). INCOMPLETE: some line has not ended (the map failed, or a job
 * still runs) — running the batch again finishes it without redoing what is done.
 */
export const BATCH_STATUSES = ['COMPLETED', 'COMPLETED_WITH_FAILURES', 'INCOMPLETE'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export interface BatchLineReport {
  line: number;
  jobId?: string;
  status: BatchLineStatus;
  errorCode?: string;
  /** Why the line has no video, in words a user can act on. */
  reason?: string;
}

export interface BatchSummary {
  batchId: string;
  status: BatchStatus;
  manifest: ManifestLocation;
  /** Non-blank manifest lines. */
  lineCount: number;
  /** Lines by outcome; statuses no line has are left out. */
  counts: Partial<Record<BatchLineStatus, number>>;
  /** Every line without a video, by line number. */
  failures: BatchLineReport[];
  /** Every runnable line's job, by line number. */
  jobs: { line: number; jobId: string; status: BatchLineStatus }[];
  startedAt?: string;
  finishedAt: string;
  /** Set when the batch itself broke off (the Distributed Map failed): Step Functions' error and cause. */
  error?: { error: string; cause: string };
}

export interface SummarizeBatchInput {
  batchId: string;
  manifest: ManifestLocation;
  lines: readonly BatchLine[];
  /** The job records of the runnable lines that have one, by job id. */
  jobs: ReadonlyMap<string, Pick<VideoJob, 'jobId' | 'status' | 'errorCode' | 'errorMessage'>>;
  startedAt?: string;
  finishedAt: Date;
  mapError?: { error: string; cause: string };
}

const NOT_STARTED_REASON =
  'no job record: the batch stopped before this line, or its execution failed before submitting';

const reportOf = (line: BatchLine, input: SummarizeBatchInput): BatchLineReport => {
  if (!isRunnable(line)) {
    return {
      line: line.line,
      status: 'INVALID',
      errorCode: line.rejected.errorCode,
      reason: line.rejected.errorMessage,
    };
  }
  const job = input.jobs.get(line.jobId);
  if (job === undefined) {
    return { line: line.line, jobId: line.jobId, status: 'NOT_STARTED', reason: NOT_STARTED_REASON };
  }
  return {
    line: line.line,
    jobId: line.jobId,
    status: job.status,
    ...(job.errorCode === undefined ? {} : { errorCode: job.errorCode }),
    ...(job.status === 'COMPLETED' ? {} : { reason: job.errorMessage ?? `the job is ${job.status}` }),
  };
};

const statusOf = (reports: readonly BatchLineReport[], broken: boolean): BatchStatus => {
  const ended = (status: BatchLineStatus) =>
    status === 'INVALID' || (status !== 'NOT_STARTED' && isTerminal(status));
  if (broken || reports.some((r) => !ended(r.status))) return 'INCOMPLETE';
  return reports.every((r) => r.status === 'COMPLETED') ? 'COMPLETED' : 'COMPLETED_WITH_FAILURES';
};

export const summarizeBatch = (input: SummarizeBatchInput): BatchSummary => {
  const reports = [...input.lines].sort((a, b) => a.line - b.line).map((line) => reportOf(line, input));
  const counts: Partial<Record<BatchLineStatus, number>> = {};
  for (const { status } of reports) counts[status] = (counts[status] ?? 0) + 1;
  return {
    batchId: input.batchId,
    status: statusOf(reports, input.mapError !== undefined),
    manifest: input.manifest,
    lineCount: reports.length,
    counts,
    failures: reports.filter((r) => r.status !== 'COMPLETED'),
    jobs: reports.flatMap(({ line, jobId, status }) =>
      jobId === undefined ? [] : [{ line, jobId, status }],
    ),
    ...(input.startedAt === undefined ? {} : { startedAt: input.startedAt }),
    finishedAt: input.finishedAt.toISOString(),
    ...(input.mapError === undefined ? {} : { error: input.mapError }),
  };
};
