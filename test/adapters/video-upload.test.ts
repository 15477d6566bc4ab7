import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3VideoSink, VIDEO_STAGING_PREFIX } from '#adapters/video-upload';
import { VideoIntegrityError } from '#domain/errors';
import type { VideoObjectSpec } from '#domain/store-video';
import { type LocalS3, mp4Like, sha256Hex, startLocalS3 } from '#test/adapters/video-fixtures';

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/** Yields `body` in 1 MiB chunks; after `failAfter` bytes it fails with `error` instead. */
const bodyOf = (
  body: Buffer,
  failAfter?: number,
  error: Error = new VideoIntegrityError('bad body'),
): Readable =>
  Readable.from(
    (async function* () {
      for (let at = 0; at < body.length; at += MiB) {
        if (failAfter !== undefined && at >= failAfter) throw error;
        yield body.subarray(at, Math.min(at + MiB, body.length));
      }
      if (failAfter !== undefined) throw error;
    })(),
    { objectMode: false },
  );

const spec = (
  bucket: string,
  key: string,
  metadata: () => Record<string, string> = () => ({}),
): VideoObjectSpec => ({
  bucket,
  key,
  contentType: 'video/mp4',
  metadata,
});

describe('S3VideoSink against s3rver', () => {
  let s3: LocalS3;
  let sink: S3VideoSink;

  beforeAll(async () => {
    s3 = await startLocalS3();
    sink = new S3VideoSink(s3.client, { partSize: PART, queueSize: 2 });
  });
  afterAll(async () => {
    await s3.close();
  });

  it('stores a multipart body under its key with content type and the metadata known at the end', async () => {
    const body = mp4Like(12 * MiB + 123);
    let bodyEnded = false;
    const stream = bodyOf(body).on('end', () => {
      bodyEnded = true;
    });
    await sink.write(
      stream,
      spec(s3.bucket, 'videos/2025/01/02/job-multi.mp4', () => {
        expect(bodyEnded).toBe(true);
        return { sha256: sha256Hex(body), jobid: 'job-multi' };
      }),
    );
    const stored = await s3.object('videos/2025/01/02/job-multi.mp4');
    expect(stored.bytes.length).toBe(body.length);
    expect(sha256Hex(stored.bytes)).toBe(sha256Hex(body));
    expect(stored.contentType).toBe('video/mp4');
    expect(stored.metadata).toEqual({ sha256: sha256Hex(body), jobid: 'job-multi' });
    expect(await s3.keys(VIDEO_STAGING_PREFIX)).toEqual([]);
  });

  it('stores a body smaller than one part', async () => {
    const body = mp4Like(40_000);
    await sink.write(
      bodyOf(body),
      spec(s3.bucket, 'videos/small.mp4', () => ({ sha256: sha256Hex(body) })),
    );
    const stored = await s3.object('videos/small.mp4');
    expect(stored.bytes.equals(body)).toBe(true);
    expect(stored.metadata.sha256).toBe(sha256Hex(body));
  });

  it.each([
    ['after two parts of a multipart upload', 12 * MiB, 11 * MiB],
    ['at the very end of a multipart upload', 12 * MiB, 12 * MiB],
    ['within a single-part body', 2 * MiB, 1 * MiB],
  ])('leaves no object anywhere when the body fails %s', async (_when, size, failAfter) => {
    const key = `videos/failed-${size}-${failAfter}.mp4`;
    const failure = new VideoIntegrityError('size mismatch');
    let metadataAsked = false;
    await expect(
      sink.write(
        bodyOf(mp4Like(size), failAfter, failure),
        spec(s3.bucket, key, () => {
          metadataAsked = true;
          return {};
        }),
      ),
    ).rejects.toBe(failure);
    expect(metadataAsked).toBe(false);
    expect(await s3.keys(key)).toEqual([]);
    expect(await s3.keys(VIDEO_STAGING_PREFIX)).toEqual([]);
  });
});

describe('S3VideoSink cleanup (mocked S3)', () => {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  // This instance only: the s3rver tests above use real clients.
  const s3 = mockClient(client);
  const cleanupErrors: string[] = [];
  const sink = new S3VideoSink(client, {
    partSize: PART,
    queueSize: 1,
    onCleanupError: (what) => cleanupErrors.push(what),
  });

  beforeEach(() => {
    s3.reset();
    cleanupErrors.length = 0;
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"etag"' });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v1' });
    s3.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    s3.on(CopyObjectCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    s3.on(AbortMultipartUploadCommand).resolves({});
  });

  it('aborts the multipart upload and never completes it when the body fails', async () => {
    const failure = new VideoIntegrityError('not an MP4');
    await expect(
      sink.write(bodyOf(mp4Like(12 * MiB), 7 * MiB, failure), spec('b', 'videos/k.mp4')),
    ).rejects.toBe(failure);
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(1);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    const aborts = s3.commandCalls(AbortMultipartUploadCommand);
    expect(aborts).toHaveLength(1);
    expect(aborts[0]?.args[0].input).toMatchObject({ Bucket: 'b', UploadId: 'upload-1' });
    expect(aborts[0]?.args[0].input.Key).toMatch(new RegExp(`^${VIDEO_STAGING_PREFIX}.+/videos/k\\.mp4$`));
  });

  it('never sends the last part or the completion when the body fails at its very end', async () => {
    const failure = new VideoIntegrityError('fewer bytes than file_size');
    await expect(
      sink.write(bodyOf(mp4Like(12 * MiB), 12 * MiB, failure), spec('b', 'videos/k.mp4')),
    ).rejects.toBe(failure);
    expect(s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input.PartNumber)).toEqual([1, 2]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it('keeps the body error when the abort itself fails', async () => {
    s3.on(AbortMultipartUploadCommand).rejects(new Error('AccessDenied'));
    const failure = new VideoIntegrityError('truncated');
    await expect(
      sink.write(bodyOf(mp4Like(12 * MiB), 6 * MiB, failure), spec('b', 'videos/k.mp4')),
    ).rejects.toBe(failure);
    expect(cleanupErrors).toEqual([expect.stringMatching(/^abort multipart upload/)]);
  });

  it('copies the staged version to the final key with the final metadata, then deletes that version', async () => {
    await sink.write(
      bodyOf(mp4Like(12 * MiB)),
      spec('b', 'videos/2025/k.mp4', () => ({ sha256: 'abc' })),
    );
    const [copy] = s3.commandCalls(CopyObjectCommand);
    expect(copy?.args[0].input).toMatchObject({
      Bucket: 'b',
      Key: 'videos/2025/k.mp4',
      MetadataDirective: 'REPLACE',
      ContentType: 'video/mp4',
      Metadata: { sha256: 'abc' },
    });
    const staged = s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input.Key;
    expect(copy?.args[0].input.CopySource).toBe(`b/${staged}?versionId=v1`);
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: staged,
      VersionId: 'v1',
    });
  });

  it('deletes the staged object when the copy fails, and reports the copy error', async () => {
    s3.on(CopyObjectCommand).rejects(new Error('InternalError'));
    await expect(sink.write(bodyOf(mp4Like(12 * MiB)), spec('b', 'videos/k.mp4'))).rejects.toThrow(
      'InternalError',
    );
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });
});
