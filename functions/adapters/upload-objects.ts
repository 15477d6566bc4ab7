// The S3 side of an image upload: HEAD the image (size, ETag, version, x-amz-meta-*), read its sidecar
// with a size cap, and presign the GET URL Segmind fetches the image from. Presigning is local signing
// with the function's credentials: the URL works only while the role may read the object, and never
// longer than those credentials live (on Lambda, a session of some hours), whatever the TTL says.
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Client } from '#commons/aws-clients';
import type { ObjectHead, ObjectLocation, SidecarRead, UploadObjects } from '#domain/upload-job';

const isMissing = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  if (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.name === 'NoSuchVersion') return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 404;
};

const versionOf = (location: ObjectLocation) =>
  location.versionId === undefined ? {} : { VersionId: location.versionId };

export class S3UploadObjects implements UploadObjects {
  readonly #client: S3Client;
  readonly #now: () => Date;

  constructor(client: S3Client, now: () => Date = () => new Date()) {
    this.#client = client;
    this.#now = now;
  }

  async head(location: ObjectLocation): Promise<ObjectHead | undefined> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: location.bucket, Key: location.key, ...versionOf(location) }),
      );
      return {
        size: head.ContentLength ?? 0,
        etag: head.ETag,
        // Unversioned buckets answer "null" (or nothing): no version to pin.
        versionId: head.VersionId === undefined || head.VersionId === 'null' ? undefined : head.VersionId,
        metadata: { ...head.Metadata },
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async readSidecar(location: ObjectLocation, maxBytes: number): Promise<SidecarRead> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.#client.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...versionOf(location) }),
      );
    } catch (error) {
      if (isMissing(error)) return { kind: 'missing' };
      throw error;
    }
    const { Body, ContentLength } = response;
    if (ContentLength !== undefined && ContentLength > maxBytes) {
      // Leave the body unread: a stray multi-GB ".json" must not be pulled into the function's memory.
      if (Body !== undefined && 'destroy' in Body && typeof Body.destroy === 'function') Body.destroy();
      return { kind: 'too-large', bytes: ContentLength };
    }
    const bytes = Body === undefined ? new Uint8Array() : await Body.transformToByteArray();
    if (bytes.length > maxBytes) return { kind: 'too-large', bytes: bytes.length };
    return { kind: 'text', text: new TextDecoder('utf-8').decode(bytes) };
  }

  async presignGet(location: ObjectLocation, ttlSeconds: number): Promise<string> {
    return getSignedUrl(
      this.#client,
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...versionOf(location) }),
      { expiresIn: ttlSeconds, signingDate: this.#now() },
    );
  }
}

export interface UploadObjectsOptions {
  client?: S3Client;
  now?: () => Date;
}

/** The uploads access the Lambdas use: the shared per-container S3 client. */
export const createUploadObjects = (options: UploadObjectsOptions = {}): UploadObjects =>
  new S3UploadObjects(options.client ?? s3Client(), options.now);
