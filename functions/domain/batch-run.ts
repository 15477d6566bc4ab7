// The two steps of a batch that are ours (the Distributed Map in between is Step Functions'):
// prepareBatch reads the manifest once, validates every line and writes the batch's lines file, which the
// map then reads — every row a JSON object, so one bad manifest line cannot fail the map's reader, and
// every row carries its real line number and job id. finishBatch reads the job records back and writes the
// summary to S3 and to the batch record.
import {
  BatchInputError,
  type BatchLine,
  batchFileKeys,
  batchIdFrom,
  checkManifestLocation,
  isRunnable,
  MAX_BATCH_LINES,
  type ManifestLocation,
  manifestEntryText,
  parseManifestLine,
  type S3Location,
} from '#domain/batch-manifest';
import {
  type BatchLineReport,
  type BatchLineStatus,
  type BatchStatus,
  type BatchSummary,
  summarizeBatch,
} from '#domain/batch-summary';
import type { VideoJob } from '#domain/video-job';

/** The batch's files in S3. */
export interface BatchFiles {
  /** The manifest's lines, in order, without terminators. Throws BatchInputError when it does not exist. */
  readManifest(location: ManifestLocation): AsyncIterable<string>;
  writeLines(location: S3Location, lines: readonly BatchLine[]): Promise<void>;
  readLines(location: S3Location): Promise<BatchLine[]>;
  writeSummary(location: S3Location, summary: BatchSummary): Promise<void>;
}

/** Failures kept on the batch record itself; the summary in S3 has them all. */
export const RECORDED_FAILURES = 100;

/** What prepareBatch made of a manifest: the batch, its lines file and how many lines can run. */
export interface PreparedLines {
  batchId: string;
  manifest: ManifestLocation;
  /** The lines file the Distributed Map reads. */
  lines: S3Location;
  lineCount: number;
  runnable: number;
  rejected: number;
}

/** The batch record: one item per batch, keyed by `batchId`. */
export interface BatchRecord extends PreparedLines {
  status: 'RUNNING' | BatchStatus;
  /** How many times the batch was started (a rerun of the same batch id counts). */
  runs: number;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  counts?: Partial<Record<BatchLineStatus, number>>;
  failureCount?: number;
  /** The first RECORDED_FAILURES failures, by line number. */
  failures?: BatchLineReport[];
  summary?: S3Location;
  error?: { error: string; cause: string };
}

export interface BatchRunStart extends PreparedLines {
  at: Date;
}

export interface BatchStore {
  /** Marks the batch RUNNING (a rerun resets the previous outcome) and returns the record. */
  markRunning(start: BatchRunStart): Promise<BatchRecord>;
  recordSummary(summary: BatchSummary, location: S3Location, at: Date): Promise<void>;
  get(batchId: string): Promise<BatchRecord | undefined>;
}

/** What the summary reads of a job record. */
export type BatchJobOutcome = Pick<VideoJob, 'jobId' | 'status' | 'errorCode' | 'errorMessage'>;

/** Strongly consistent reads of job records; ids without a record are simply absent from the result. */
export interface BatchJobs {
  get(jobIds: readonly string[]): Promise<Map<string, BatchJobOutcome>>;
}

export interface PrepareBatchCommand {
  /** As given (a safe id or an ISO-8601 time); see batchIdFrom. */
  batchId: string;
  manifest: ManifestLocation;
}

/** What both steps of a batch are given besides their own ports. */
interface BatchStepDeps {
  /** The bucket manifests are read from and the batch's files written to (the videos bucket). */
  bucket: string;
  now: () => Date;
}

export interface PrepareBatchDeps extends BatchStepDeps {
  files: Pick<BatchFiles, 'readManifest' | 'writeLines'>;
  batches: Pick<BatchStore, 'markRunning'>;
}

/** What the map needs: written to the batch execution's `$.batch`. */
export interface PreparedBatch extends PreparedLines {
  startedAt: string;
}

export const prepareBatch = async (
  command: PrepareBatchCommand,
  deps: PrepareBatchDeps,
): Promise<PreparedBatch> => {
  const batchId = batchIdFrom(command.batchId);
  const { manifest } = command;
  checkManifestLocation(manifest, deps.bucket);

  const lines: BatchLine[] = [];
  let lineNumber = 0;
  for await (const text of deps.files.readManifest(manifest)) {
    lineNumber += 1;
    const entry = manifestEntryText(text, lineNumber);
    if (entry === undefined) continue;
    if (lines.length === MAX_BATCH_LINES) {
      throw new BatchInputError(
        `s3://${manifest.bucket}/${manifest.key} has more than ${MAX_BATCH_LINES} requests; split it into several batches`,
      );
    }
    lines.push(parseManifestLine(entry, lineNumber, batchId));
  }
  if (lines.length === 0) {
    throw new BatchInputError(`s3://${manifest.bucket}/${manifest.key} has no requests (no non-blank lines)`);
  }

  const location: S3Location = { bucket: deps.bucket, key: batchFileKeys(batchId).lines };
  await deps.files.writeLines(location, lines);
  const runnable = lines.filter(isRunnable).length;
  const start: BatchRunStart = {
    batchId,
    manifest,
    lines: location,
    lineCount: lines.length,
    runnable,
    rejected: lines.length - runnable,
    at: deps.now(),
  };
  const record = await deps.batches.markRunning(start);
  const { at: _, ...prepared } = start;
  return { ...prepared, startedAt: record.startedAt };
};

export interface FinishBatchCommand {
  batchId: string;
  manifest: ManifestLocation;
  lines: S3Location;
  startedAt?: string;
  /** The Distributed Map's error, when it failed: the summary still covers every line. */
  mapError?: { error: string; cause: string };
}

export interface FinishBatchDeps extends BatchStepDeps {
  files: Pick<BatchFiles, 'readLines' | 'writeSummary'>;
  jobs: BatchJobs;
  batches: Pick<BatchStore, 'recordSummary'>;
}

/** What the batch execution keeps of the summary (the lists stay in S3): written to `$.summary`. */
export interface FinishedBatch {
  batchId: string;
  status: BatchStatus;
  lineCount: number;
  counts: Partial<Record<BatchLineStatus, number>>;
  failureCount: number;
  summary: S3Location;
}

export const finishBatch = async (
  command: FinishBatchCommand,
  deps: FinishBatchDeps,
): Promise<FinishedBatch> => {
  const lines = await deps.files.readLines(command.lines);
  const jobs = await deps.jobs.get(lines.filter(isRunnable).map((line) => line.jobId));
  const finishedAt = deps.now();
  const summary = summarizeBatch({
    batchId: command.batchId,
    manifest: command.manifest,
    lines,
    jobs,
    finishedAt,
    ...(command.startedAt === undefined ? {} : { startedAt: command.startedAt }),
    ...(command.mapError === undefined ? {} : { mapError: command.mapError }),
  });
  const location: S3Location = { bucket: deps.bucket, key: batchFileKeys(command.batchId).summary };
  await deps.files.writeSummary(location, summary);
  await deps.batches.recordSummary(summary, location, finishedAt);
  return {
    batchId: summary.batchId,
    status: summary.status,
    lineCount: summary.lineCount,
    counts: summary.counts,
    failureCount: summary.failures.length,
    summary: location,
  };
};
