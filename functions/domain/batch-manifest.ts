// A batch manifest is JSON Lines: one video request per line, in the schema of the API's request body.
// Here: where manifests and a batch's files live, the batch id, and one manifest line → one batch line,
// either runnable (a validated request and the job id derived from batch + line) or rejected with the
// reason a user can act on. Blank lines are skipped but still counted, so line numbers are the ones an
// editor shows.
import * as z from 'zod';
import { InvalidVideoRequestError } from '#domain/errors';
import { jobIdForBatchLine } from '#domain/job-id';
import { parseVideoRequest } from '#domain/submit-job';
import { type VideoRequest, videoRequestSchema } from '#domain/video-request';

/** Key prefix manifests are read from (in the videos bucket): the only place Prepare may read. */
export const MANIFESTS_PREFIX = 'manifests/';
/** Key prefix of each batch's own files: `batches/<batchId>/lines.jsonl` and `…/summary.json`. */
export const BATCHES_PREFIX = 'batches/';

/**
 * Non-blank lines a manifest may have. The Distributed Map gathers one small result per line into one
 * state output (at most 256 KiB); 5,000 keeps well inside it, and is ~3 days of videos at 50 RPM.
 */
export const MAX_BATCH_LINES = 5000;
/** A prompt is at most 5,000 characters; even fully escaped it fits this many bytes of JSON. */
export const MAX_LINE_BYTES = 64 * 1024;

/** 1–64 of [A-Za-z0-9_-]: short enough that `batch-<batchId>-<line>` stays a readable job id. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The batch cannot start: its input is unusable. Nothing was started; the message says what to fix. */
export class BatchInputError extends Error {
  override readonly name = 'BatchInputError';
}

export interface S3Location {
  bucket: string;
  key: string;
}

export interface ManifestLocation extends S3Location {
  /** A specific version of the manifest (versioned bucket); the current one when absent. */
  versionId?: string;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The batch id, from what started the batch. A safe id is kept as is; an ISO-8601 time — EventBridge
 * Scheduler's `<aws.scheduler.scheduled-time>`, e.g. `2026-01-05T09:00:00Z` — becomes its basic form in UTC,
 * `20260105T090000Z`, so that every delivery of one scheduled run names the same batch (and its children
 * the same jobs), while the next run is a new batch.
 */
export const batchIdFrom = (raw: string): string => {
  const value = raw.trim();
  if (BATCH_ID_PATTERN.test(value)) return value;
  if (ISO_DATE_TIME.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) {
      return at
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
        .replace(/[-:]/g, '');
    }
  }
  throw new BatchInputError(
    `batchId must be 1-64 of A-Z a-z 0-9 _ - (or an ISO-8601 time), got ${JSON.stringify(raw.slice(0, 100))}`,
  );
};

/** Where a batch keeps its files. */
export const batchFileKeys = (batchId: string) => ({
  lines: `${BATCHES_PREFIX}${batchId}/lines.jsonl`,
  summary: `${BATCHES_PREFIX}${batchId}/summary.json`,
});

/** A manifest must be in the bucket the batch may read, under `manifests/`. */
export const checkManifestLocation = (location: ManifestLocation, allowedBucket: string): void => {
  if (location.bucket !== allowedBucket) {
    throw new BatchInputError(
      `manifest.bucket must be ${allowedBucket} (the videos bucket), got ${JSON.stringify(location.bucket)}`,
    );
  }
  if (!location.key.startsWith(MANIFESTS_PREFIX) || location.key.length <= MANIFESTS_PREFIX.length) {
    throw new BatchInputError(
      `manifest.key must be under ${MANIFESTS_PREFIX}, got ${JSON.stringify(location.key)}`,
    );
  }
};

/** A line that becomes a job. */
export interface RunnableBatchLine {
  /** 1-based line number in the manifest file. */
  line: number;
  jobId: string;
  request: VideoRequest;
}

/** A line that does not: it is reported in the summary and starts nothing. */
export interface RejectedBatchLine {
  line: number;
  rejected: { errorCode: string; errorMessage: string };
}

export type BatchLine = RunnableBatchLine | RejectedBatchLine;

export const isRunnable = (line: BatchLine): line is RunnableBatchLine => 'request' in line;

/** Not JSON, not an object, or too long: the line is not a request at all. */
export const INVALID_MANIFEST_LINE = 'InvalidManifestLineError';

const rejected = (line: number, errorCode: string, errorMessage: string): RejectedBatchLine => ({
  line,
  rejected: { errorCode, errorMessage },
});

const describeJson = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

/** One non-blank manifest line → a batch line. Never throws for bad input: a bad line is a rejected one. */
export const parseManifestLine = (text: string, line: number, batchId: string): BatchLine => {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_LINE_BYTES) {
    return rejected(line, INVALID_MANIFEST_LINE, `line is ${bytes} bytes; at most ${MAX_LINE_BYTES} allowed`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return rejected(line, INVALID_MANIFEST_LINE, `not valid JSON: ${detail}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return rejected(
      line,
      INVALID_MANIFEST_LINE,
      `must be a JSON object like {"prompt": "..."}, got ${describeJson(value)}`,
    );
  }
  try {
    return { line, jobId: jobIdForBatchLine(batchId, line), request: parseVideoRequest(value) };
  } catch (error) {
    if (error instanceof InvalidVideoRequestError) return rejected(line, error.name, error.message);
    throw error;
  }
};

/** Blank (or whitespace-only) lines are not entries; a UTF-8 byte order mark on line 1 is not content. */
export const manifestEntryText = (text: string, line: number): string | undefined => {
  const content = (line === 1 ? text.replace(/^\uFEFF/, '') : text).replace(/\r$/, '');
  return content.trim() === '' ? undefined : content;
};

/** How a batch line reads back from `lines.jsonl` (written by us, but it crossed S3: check it). */
export const batchLineSchema = z.union([
  z.object({
    line: z.number().int().positive(),
    jobId: z.string().min(1),
    request: videoRequestSchema,
  }),
  z.object({
    line: z.number().int().positive(),
    rejected: z.object({ errorCode: z.string(), errorMessage: z.string() }),
  }),
]);
