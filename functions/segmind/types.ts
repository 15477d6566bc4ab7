// What the Segmind client returns: Segmind's wire shapes, read into our own names.
import type { SegmindMetrics } from '#domain/video-job';
import type { SegmindVideoRequest } from '#domain/video-request';

export type { SegmindVideoRequest };

/** The statuses Segmind documents. Any other string is reported as is and treated as "not yet". */
export const SEGMIND_STATUSES = ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
export type SegmindStatus = (typeof SEGMIND_STATUSES)[number];

export interface SubmitAccepted {
  requestId: string;
  /** Absolute URLs Segmind told us to poll; the client follows them as given. */
  statusUrl: string;
  responseUrl: string;
}

export interface StatusReport {
  requestId: string;
  /** One of SEGMIND_STATUSES, or whatever unknown string Segmind sent. */
  status: string;
  /** Segmind's error detail when status is FAILED. */
  error?: string;
  metrics: SegmindMetrics;
}

export interface VideoOutput {
  url: string;
  contentType?: string;
  fileName?: string;
  fileSize?: number;
}

export type ResultReport =
  | { status: 'COMPLETED'; requestId: string; video: VideoOutput; metrics: SegmindMetrics }
  | { status: 'FAILED'; requestId: string; error: string; metrics: SegmindMetrics }
  /** Asked too early: the job is still QUEUED/PROCESSING (or an unknown status). */
  | { status: string; requestId: string; metrics: SegmindMetrics; pending: true };

/** The async API, as the Lambdas use it. Implemented by SegmindClient; easy to fake in domain tests. */
export interface SegmindApi {
  submit(request: SegmindVideoRequest): Promise<SubmitAccepted>;
  /** A request id (resolved against the base URL) or the absolute status_url Segmind gave. */
  status(requestIdOrStatusUrl: string): Promise<StatusReport>;
  /** A request id or the absolute response_url Segmind gave. */
  result(requestIdOrResponseUrl: string): Promise<ResultReport>;
}
