// Messages between the copy bench (bench/copy.ts) and the processes it forks (bench/copy-child.ts).
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** The three ways of copying the video that the bench compares. */
export type CopyMethod = 'raw-download' | 'store-video' | 'naive-buffer-put';

export interface SourceRequest {
  role: 'source';
  sizeBytes: number;
  seed: number;
}

export interface CopierRequest {
  role: 'copier';
  method: CopyMethod;
  /** The synthetic video's URL on loopback. */
  url: string;
  sizeBytes: number;
  bucket: string;
  /** Where the naive copy puts its object (store-video picks its own key). */
  naiveKey: string;
  /** The local stack's S3 client settings (plain JSON: endpoint, region, credentials, path style, ...). */
  s3: S3ClientConfig;
}

export type ChildRequest = SourceRequest | CopierRequest;

/** What one copier process measured about itself. */
export interface CopyMeasurement {
  method: CopyMethod;
  bytes: number;
  /** Wall time of the copy alone: from the first request to the last byte stored (or discarded). */
  seconds: number;
  /** Peak resident set size before the copy started (runtime, loaded modules, clients), in bytes. */
  baselineRssBytes: number;
  /** Peak resident set size of the whole process life, in bytes. */
  peakRssBytes: number;
  /** Parts of `seconds`, by name (e.g. download / upload), where the method has parts. */
  phases: Record<string, number>;
  /** The object the copy produced, for the parent to verify. */
  stored?: { bucket: string; key: string };
}

export type ChildReply =
  | { ok: true; role: 'source'; url: string; hostPort: string }
  | { ok: true; role: 'copier'; measurement: CopyMeasurement }
  | { ok: false; error: string };
