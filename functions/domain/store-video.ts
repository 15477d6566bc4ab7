// StoreVideo use case: copy the finished video from Segmind's URL into our bucket, verifying on the way
// (size, MP4 structure and contents, SHA-256) so that a bad body never becomes an object under its final key.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { JobClock } from '#commons/clock';
import { VideoIntegrityError, VideoTransferError } from '#domain/errors';
import type { JobStore } from '#domain/job-store';
import { type ExpectedVideo, Mp4Inspector } from '#domain/mp4-check';
import {
  DEFAULT_RETRY_POLICY,
  decideRetry,
  isRetryLater,
  noteWaiting,
  type RetryLater,
  type RetryPolicy,
  retryLaterAt,
} from '#domain/retry-later';
import type { StoredVideo } from '#domain/video-job';

export const VIDEO_CONTENT_TYPE = 'video/mp4';
/** Far above any LTX-2 output (10 s of 4K is tens of MB); stops a hostile URL from streaming forever. */
export const DEFAULT_MAX_VIDEO_BYTES = 2 * 1024 ** 3;

/** The slice of the job store this step needs. Throws JobCancelledError when the job is already over. */
export interface JobStoringMarker {
  markStoring(jobId: string, at: Date): Promise<unknown>;
}

export interface VideoDownload {
  /** The body as it arrives; errors are WorkflowErrors (VideoTransferError for a broken transfer). */
  body: Readable;
  contentType: string | undefined;
  contentLength: number | undefined;
}

export interface VideoSource {
  open(url: string, signal?: AbortSignal): Promise<VideoDownload>;
}

export interface VideoObjectSpec {
  bucket: string;
  key: string;
  contentType: string;
  /** Read once the body has been consumed to its end without error: it may depend on the bytes (sha256). */
  metadata: () => Record<string, string>;
}

export interface VideoSink {
  /**
   * Stores the body under `spec.key`. The object must appear there only if the whole body was read without
   * error; on any failure the call rejects with the body's error and leaves nothing under the key.
   */
  write(body: Readable, spec: VideoObjectSpec): Promise<void>;
}

export interface StoreVideoInput {
  jobId: string;
  segmindRequestId: string;
  videoUrl: string;
  /** `video.file_size` from Segmind's result, when it sent one. */
  fileSize?: number;
  /** What the job asked for; the handler always passes it (see VideoExpectations.video). */
  expected?: ExpectedVideo;
  /** Aborts the transfer (the Lambda is about to time out); the step then fails with VideoTransferError. */
  signal?: AbortSignal;
}

export interface StoreVideoDeps {
  jobs: JobStoringMarker;
  source: VideoSource;
  sink: VideoSink;
  bucket: string;
  now: () => Date;
  maxBytes?: number;
  /** Something odd but acceptable happened (e.g. a wrong Content-Type on a real MP4). */
  warn?: (message: string, details: Record<string, unknown>) => void;
}

/** `videos/YYYY/MM/DD/{jobId}.mp4`, dated in UTC. */
export const videoKey = (jobId: string, at: Date): string => {
  const yyyy = at.getUTCFullYear().toString().padStart(4, '0');
  const mm = (at.getUTCMonth() + 1).toString().padStart(2, '0');
  const dd = at.getUTCDate().toString().padStart(2, '0');
  return `videos/${yyyy}/${mm}/${dd}/${jobId}.mp4`;
};

const SIGNATURE_OFFSET = 4;
const SIGNATURE = Buffer.from('ftyp', 'latin1');
const HEAD_BYTES = SIGNATURE_OFFSET + SIGNATURE.length;

/** An ISO-BMFF file (MP4) starts with its `ftyp` box: 4 bytes of size, then the type. */
export const hasMp4Signature = (head: Uint8Array): boolean =>
  head.length >= HEAD_BYTES && Buffer.from(head.subarray(SIGNATURE_OFFSET, HEAD_BYTES)).equals(SIGNATURE);

export const isMp4ContentType = (contentType: string | undefined): boolean =>
  contentType?.split(';')[0]?.trim().toLowerCase() === VIDEO_CONTENT_TYPE;

export interface VideoExpectations {
  /** From the response's Content-Length: fewer bytes means the transfer broke off. */
  contentLength?: number;
  /** From Segmind's result: a different count means it is not the promised file. */
  fileSize?: number;
  maxBytes: number;
  /**
   * What the job asked for: when given, the body must also be a sound MP4 (box structure) whose moov
   * declares this frame size, duration and (if asked) an audio track. Only the signature is checked otherwise.
   */
  video?: ExpectedVideo;
}

/**
 * A pass-through that checks the body as it flows: MP4 signature on the first bytes, byte count against
 * the expectations (too many as soon as it happens, too few at the end), and the SHA-256 of it all.
 * It fails in flush(), before the end of the stream is signalled, so an uploader reading from it sees an
 * error instead of an end and never completes the object.
 */
export class VideoVerifier extends Transform {
  #bytes = 0;
  #head = Buffer.alloc(0);
  #signatureChecked = false;
  readonly #hash = createHash('sha256');
  readonly #expect: VideoExpectations;
  readonly #mp4: Mp4Inspector | undefined;
  #sha256: string | undefined;

  constructor(expect: VideoExpectations) {
    super();
    this.#expect = expect;
    this.#mp4 = expect.video === undefined ? undefined : new Mp4Inspector(expect.video);
  }

  /** Bytes seen so far (all of them once the stream has ended). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The hex SHA-256 of the body; only known once the stream has ended without error. */
  get sha256(): string {
    if (this.#sha256 === undefined) throw new Error('The video body has not been read to its end yet');
    return this.#sha256;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    const limit = Math.min(
      this.#expect.maxBytes,
      this.#expect.fileSize ?? Number.POSITIVE_INFINITY,
      this.#expect.contentLength ?? Number.POSITIVE_INFINITY,
    );
    if (this.#bytes > limit) {
      callback(new VideoIntegrityError(`The video body is larger than expected (more than ${limit} bytes)`));
      return;
    }
    if (!this.#signatureChecked) {
      this.#head = Buffer.concat([this.#head, chunk.subarray(0, HEAD_BYTES - this.#head.length)]);
      if (this.#head.length >= HEAD_BYTES) {
        this.#signatureChecked = true;
        if (!hasMp4Signature(this.#head)) {
          callback(new VideoIntegrityError('The video body is not an MP4 (no ftyp box at its start)'));
          return;
        }
      }
    }
    try {
      this.#mp4?.append(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { contentLength, fileSize } = this.#expect;
    if (!this.#signatureChecked) {
      callback(new VideoIntegrityError(`The video body is not an MP4 (only ${this.#bytes} bytes)`));
    } else if (contentLength !== undefined && this.#bytes !== contentLength) {
      callback(
        new VideoTransferError(`The video download ended after ${this.#bytes} of ${contentLength} bytes`),
      );
    } else if (fileSize !== undefined && this.#bytes !== fileSize) {
      callback(new VideoIntegrityError(`The video has ${this.#bytes} bytes, Segmind announced ${fileSize}`));
    } else {
      try {
        this.#mp4?.finish();
      } catch (error) {
        callback(error as Error);
        return;
      }
      this.#sha256 = this.#hash.digest('hex');
      callback();
    }
  }
}

/**
 * Marks the job STORING, then streams the video into `videos/YYYY/MM/DD/{jobId}.mp4`.
 *
 * What counts as "the video": the body must start with the MP4 signature and, given `expected`, be a sound
 * MP4 of the requested frame size, duration and audio (#domain/mp4-check). The declared Content-Type is not
 * trusted either way: a CDN may label a real MP4 `application/octet-stream` (accepted, with a warning),
 * and a `video/mp4` label on bytes without the signature is exactly what a corrupted download looks like
 * (rejected). Sizes must agree: Content-Length with Segmind's file_size up front, the bytes with both.
 */
export const storeVideo = async (input: StoreVideoInput, deps: StoreVideoDeps): Promise<StoredVideo> => {
  const startedAt = deps.now();
  await deps.jobs.markStoring(input.jobId, startedAt);

  const download = await deps.source.open(input.videoUrl, input.signal);
  const { contentLength, contentType } = download;
  if (contentLength !== undefined && input.fileSize !== undefined && contentLength !== input.fileSize) {
    download.body.destroy();
    throw new VideoIntegrityError(
      `The video server announced ${contentLength} bytes, Segmind announced ${input.fileSize}`,
    );
  }
  if (contentType !== undefined && !isMp4ContentType(contentType)) {
    deps.warn?.('The video URL did not say video/mp4; relying on the MP4 signature', { contentType });
  }

  const verifier = new VideoVerifier({
    contentLength,
    fileSize: input.fileSize,
    maxBytes: deps.maxBytes ?? DEFAULT_MAX_VIDEO_BYTES,
    ...(input.expected === undefined ? {} : { video: input.expected }),
  });
  // pipeline() carries the download's errors into the verifier and tears both down if either fails or
  // the sink stops reading.
  const verified = pipeline(download.body, verifier, () => {});
  const key = videoKey(input.jobId, startedAt);
  try {
    await deps.sink.write(verified, {
      bucket: deps.bucket,
      key,
      contentType: VIDEO_CONTENT_TYPE,
      metadata: () => ({
        sha256: verifier.sha256,
        jobid: input.jobId,
        'segmind-request-id': input.segmindRequestId,
      }),
    });
  } finally {
    // On failure, let go of the connection now rather than when pipeline() notices.
    if (!download.body.readableEnded) download.body.destroy();
    verified.destroy();
  }
  return {
    bucket: deps.bucket,
    key,
    bytes: verifier.bytes,
    sha256: verifier.sha256,
    contentType: VIDEO_CONTENT_TYPE,
  };
};

export interface StoreVideoAttemptInput extends StoreVideoInput {
  /** When Segmind accepted the job: the retention deadline counts from here. */
  submittedAt: string;
  /** This step's previous answer (`$.video`), when it asked to be retried; it carries the attempt count. */
  previous?: unknown;
}

export interface StoreVideoAttemptDeps extends StoreVideoDeps {
  /** Where the job shows that it waits to download again. */
  jobs: StoreVideoDeps['jobs'] & Pick<JobStore, 'recordWaiting'>;
  clock: JobClock;
  random?: () => number;
  retryPolicy?: RetryPolicy;
}

/** `$.video`: the stored video, or when to fetch a fresh result and download again. */
export type StoreVideoOutput = StoredVideo | RetryLater;

/**
 * One copy attempt. A broken (VideoTransferError) or wrong (VideoIntegrityError) download is not final while
 * Segmind still holds the result: the answer is "fetch the result and download again at T", with backoff,
 * until the retention deadline; then the job fails with that error. A failed attempt leaves no object
 * (VideoSink's contract), so retries never pile up partial copies.
 */
export const storeVideoAttempt = async (
  input: StoreVideoAttemptInput,
  deps: StoreVideoAttemptDeps,
): Promise<StoreVideoOutput> => {
  try {
    return await storeVideo(input, deps);
  } catch (error) {
    const reason =
      error instanceof VideoIntegrityError
        ? 'video-invalid'
        : error instanceof VideoTransferError
          ? 'video-transfer-failed'
          : undefined;
    if (reason === undefined) throw error;
    const context = {
      reason,
      detail: (error as Error).message,
      previousAttempts: isRetryLater(input.previous) ? input.previous.attempt : 0,
      elapsedSeconds: deps.clock.elapsedSeconds(input.submittedAt),
      random: (deps.random ?? Math.random)(),
    };
    const decision = decideRetry(context, deps.retryPolicy ?? DEFAULT_RETRY_POLICY);
    if (decision.kind === 'retry') {
      const answer = retryLaterAt(context, decision, deps.clock);
      await noteWaiting(deps.jobs, input.jobId, answer, deps.now());
      return answer;
    }
    const message = `Job ${input.jobId}: the video could not be stored: ${decision.message}`;
    throw error instanceof VideoIntegrityError
      ? new VideoIntegrityError(message, { cause: error })
      : new VideoTransferError(message, { cause: error });
  }
};
