// The S3 adapter of uploads: what a HEAD, a sidecar read and a presign turn into, against a mocked client.
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3UploadObjects } from '#adapters/upload-objects';

const client = new S3Client({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
});
const s3 = mockClient(client);
afterEach(() => s3.reset());

const NOW = new Date('2030-01-01T12:00:00.000Z');
const objects = new S3UploadObjects(client, () => NOW);
const image = { bucket: 'uploads-bucket', key: 'uploads/cat.png' };

const missing = (name: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 404 }, message: name });

/** A GetObject body that counts whether it was read or destroyed unread. */
const body = (text: string) => {
  const state = { read: false, destroyed: false };
  const stream = {
    transformToByteArray: async () => {
      state.read = true;
      return new TextEncoder().encode(text);
    },
    destroy: () => {
      state.destroyed = true;
    },
  };
  return { state, stream: stream as unknown as GetObjectCommandOutput['Body'] };
};

describe('head', () => {
  it('returns size, ETag, version and the user metadata', async () => {
    s3.on(HeadObjectCommand, { Bucket: image.bucket, Key: image.key }).resolves({
      ContentLength: 1234,
      ETag: '"abc"',
      VersionId: 'v1',
      Metadata: { prompt: 'a cat', duration: '6' },
    });
    expect(await objects.head(image)).toEqual({
      size: 1234,
      etag: '"abc"',
      versionId: 'v1',
      metadata: { prompt: 'a cat', duration: '6' },
    });
  });

  it('asks for the given version and treats "null" (an unversioned object) as no version', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 1, VersionId: 'null' });
    expect((await objects.head({ ...image, versionId: 'v7' }))?.versionId).toBeUndefined();
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toMatchObject({ VersionId: 'v7' });
  });

  it.each(['NotFound', 'NoSuchKey', 'NoSuchVersion'])('answers undefined for %s', async (name) => {
    s3.on(HeadObjectCommand).rejects(missing(name));
    expect(await objects.head(image)).toBeUndefined();
  });

  it('lets other failures through, for a retry to cure', async () => {
    s3.on(HeadObjectCommand).rejects(
      new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 } }),
    );
    await expect(objects.head(image)).rejects.toMatchObject({ name: 'SlowDown' });
  });
});

describe('readSidecar', () => {
  const sidecar = { bucket: image.bucket, key: 'uploads/cat.png.json' };

  it('reads the text of a sidecar within the limit', async () => {
    const { stream } = body('{"prompt":"a cat"}');
    s3.on(GetObjectCommand).resolves({ Body: stream, ContentLength: 18 });
    expect(await objects.readSidecar(sidecar, 100)).toEqual({ kind: 'text', text: '{"prompt":"a cat"}' });
  });

  it('refuses a sidecar over the limit without reading its body', async () => {
    const { state, stream } = body('x'.repeat(1000));
    s3.on(GetObjectCommand).resolves({ Body: stream, ContentLength: 1000 });
    expect(await objects.readSidecar(sidecar, 100)).toEqual({ kind: 'too-large', bytes: 1000 });
    expect(state).toEqual({ read: false, destroyed: true });
  });

  it('still refuses an oversized body whose length was not announced', async () => {
    const { stream } = body('x'.repeat(1000));
    s3.on(GetObjectCommand).resolves({ Body: stream });
    expect(await objects.readSidecar(sidecar, 100)).toEqual({ kind: 'too-large', bytes: 1000 });
  });

  it('answers missing when there is no sidecar', async () => {
    s3.on(GetObjectCommand).rejects(missing('NoSuchKey'));
    expect(await objects.readSidecar(sidecar, 100)).toEqual({ kind: 'missing' });
  });
});

describe('presignGet', () => {
  it('signs a GET of that version, valid for the TTL', async () => {
    const url = new URL(await objects.presignGet({ ...image, versionId: 'v1' }, 3600));
    expect(url.hostname).toBe('uploads-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/uploads/cat.png');
    expect(url.searchParams.get('versionId')).toBe('v1');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20300101T120000Z');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // Signing is local: nothing was sent to S3.
    expect(s3.calls()).toHaveLength(0);
  });
});
