// Job ids are Step Functions execution names, and a Standard workflow runs a name only once: deriving the
// id from where a request came from (an Idempotency-Key, an S3 object, a manifest line) is what makes a
// repeated start a no-op. Every id here is 1–80 of [A-Za-z0-9_-], a safe subset of what AWS allows.
import { createHash, randomUUID } from 'node:crypto';
import type { VideoRequest } from '#domain/video-request';

export const MAX_JOB_ID_LENGTH = 80;
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export const isJobId = (value: string): boolean => JOB_ID_PATTERN.test(value);

/**
 * A hex SHA-256 of the parts, truncated. The parts are JSON-encoded as one array so that no choice of
 * strings can make two different tuples hash alike (("a:b", "c") vs ("a", "b:c")).
 */
const digest = (parts: readonly string[], hexChars: number): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, hexChars);

/**
 * The job of an API call that carried an `Idempotency-Key`. The key is scoped to the caller (IAM principal
 * or API key), so two callers who happen to pick the same key get two jobs.
 */
export const jobIdFromIdempotencyKey = (callerId: string, idempotencyKey: string): string =>
  `api-${digest(['idempotency-key', callerId, idempotencyKey], 40)}`;

export interface S3ObjectIdentity {
  bucket: string;
  key: string;
  /** Present on versioned buckets: each version is a new upload, hence a new job. */
  versionId?: string | undefined;
  /** Used when there is no version id: the same bytes uploaded again under the same key are one job. */
  etag?: string | undefined;
}

/** The job of an uploaded image. S3 delivers events at least once; a duplicate event derives the same id. */
export const jobIdFromS3Object = ({ bucket, key, versionId, etag }: S3ObjectIdentity): string => {
  const version = versionId?.trim() ? `v:${versionId.trim()}` : undefined;
  // S3 quotes ETags in some places and not in others; the identity must not depend on where we read it.
  const tag = etag?.trim().replace(/^"|"$/g, '');
  const revision = version ?? (tag ? `e:${tag}` : undefined);
  if (revision === undefined) {
    throw new RangeError(`s3://${bucket}/${key}: need a version id or an ETag to derive a stable job id`);
  }
  return `upl-${digest(['s3-object', bucket, key, revision], 40)}`;
};

const SAFE_BATCH_ID = /^[A-Za-z0-9_-]+$/;

/**
 * The job of one line of a batch manifest (1-based). Readable (`batch-<batchId>-<line>`) when the batch id
 * is itself a safe name and short enough; otherwise the batch id is hashed. The suffix after the last `-`
 * is always the line number, so two (batch, line) pairs never share an id.
 */
export const jobIdForBatchLine = (batchId: string, lineNumber: number): string => {
  if (!Number.isSafeInteger(lineNumber) || lineNumber < 1) {
    throw new RangeError(`line number must be a positive integer, got ${String(lineNumber)}`);
  }
  if (batchId === '') throw new RangeError('batch id must not be empty');
  const readable = `batch-${batchId}-${lineNumber}`;
  if (SAFE_BATCH_ID.test(batchId) && readable.length <= MAX_JOB_ID_LENGTH) return readable;
  return `batch-${digest(['batch', batchId], 24)}-${lineNumber}`;
};

/** A fresh id for a request that carries no identity of its own (an API call without Idempotency-Key). */
export const newJobId = (): string => `job-${randomUUID()}`;

/** JSON with object keys sorted at every level, so equal values always serialise alike. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

/**
 * A fingerprint of what was asked for, stored on the record so that a repeated Idempotency-Key with a
 * different body is recognised. It hashes the validated request (defaults applied, prompt trimmed): a
 * body that spells out a default means the same thing as one that leaves it out, and is not a conflict.
 */
export const fingerprintRequest = (request: VideoRequest): string =>
  `sha256:${createHash('sha256').update(canonicalJson(request)).digest('hex')}`;
