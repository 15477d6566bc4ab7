// Writes a video stream into S3 so that its key holds either the complete, verified object (with its
// sha256 in the metadata) or nothing at all.
//
// Two steps, because the sha256 is only known once the last byte has passed, while S3 takes an object's
// metadata when the multipart upload is created: (1) stream the body with lib-storage into a staging key,
// in bounded memory; (2) when the body ended cleanly, CopyObject the staged object to its final key with
// the full metadata (a server-side copy: no bytes pass through the Lambda), then delete the staged version.
// A body that fails verification errors before lib-storage sees its end, so neither the last part nor
// CompleteMultipartUpload is ever sent, and the multipart upload is aborted.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  MetadataDirective,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { VideoObjectSpec, VideoSink } from '#domain/store-video';

/** Where bodies are staged. The bucket's lifecycle should expire it (and abort incomplete uploads) after a day. */
export const VIDEO_STAGING_PREFIX = 'staging/';

export interface VideoUploadOptions {
  /** Bytes per multipart part (at least 5 MiB). Memory use is about (queueSize + 1) × partSize. */
  partSize?: number;
  /** Parts uploaded at the same time. */
  queueSize?: number;
  /** Called when cleanup (abort, delete of the staged copy) fails; the original error still wins. */
  onCleanupError?: (what: string, error: unknown) => void;
}

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
export const DEFAULT_QUEUE_SIZE = 2;

/** CopyObject in one request stops at 5 GiB; far above any LTX-2 video and above DEFAULT_MAX_VIDEO_BYTES. */
const stagingKey = (key: string): string => `${VIDEO_STAGING_PREFIX}${randomUUID()}/${key}`;

export class S3VideoSink implements VideoSink {
  readonly #client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #onCleanupError: (what: string, error: unknown) => void;

  constructor(client: S3Client, options: VideoUploadOptions = {}) {
    this.#client = client;
    this.#partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.#queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.#onCleanupError = options.onCleanupError ?? (() => {});
  }

  async write(body: Readable, spec: VideoObjectSpec): Promise<void> {
    const staged = stagingKey(spec.key);
    const versionId = await this.#stage(body, spec, staged);
    try {
      await this.#client.send(
        new CopyObjectCommand({
          Bucket: spec.bucket,
          Key: spec.key,
          CopySource: `${spec.bucket}/${encodeURIComponent(staged).replaceAll('%2F', '/')}${
            versionId === undefined ? '' : `?versionId=${encodeURIComponent(versionId)}`
          }`,
          MetadataDirective: MetadataDirective.REPLACE,
          ContentType: spec.contentType,
          Metadata: spec.metadata(),
        }),
      );
    } finally {
      await this.#client
        .send(new DeleteObjectCommand({ Bucket: spec.bucket, Key: staged, VersionId: versionId }))
        .catch((error: unknown) => this.#onCleanupError(`delete staged ${staged}`, error));
    }
  }

  /** Streams the body to the staging key; resolves with the staged version (versioned buckets). */
  async #stage(body: Readable, spec: VideoObjectSpec, key: string): Promise<string | undefined> {
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: spec.bucket, Key: key, Body: body, ContentType: spec.contentType },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // We abort ourselves: lib-storage's own abort would replace the body's error with the abort's
      // error whenever AbortMultipartUpload fails (s3rver does not implement it at all).
      leavePartsOnError: true,
    });
    try {
      const result = await upload.done();
      return result.VersionId;
    } catch (error) {
      await upload.abort();
      if (upload.uploadId !== undefined) {
        await this.#client
          .send(new AbortMultipartUploadCommand({ Bucket: spec.bucket, Key: key, UploadId: upload.uploadId }))
          .catch((abortError: unknown) =>
            this.#onCleanupError(`abort multipart upload of ${key}`, abortError),
          );
      }
      throw error;
    }
  }
}
