// The StoreVideo Lambda end to end on the local stack: real s3rver, real DynamoDB (dynalite) through the
// real job store, and a loopback HTTP server in Segmind's place.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { configureAwsClients } from '#commons/aws-clients';
import { ENV } from '#commons/env';
import type { StoreVideoPayload } from '#functions/store-video';
import {
  DEFAULT_VARIANT,
  type LocalS3,
  paddedMp4Head,
  type Route,
  realMp4,
  serveBytes,
  serveGenerated,
  serveTruncated,
  sha256Hex,
  startLocalS3,
  startVideoServer,
  type VideoServer,
} from '#test/adapters/video-fixtures';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

let s3: LocalS3;
let table: JobsTable;
let video: VideoServer;
let handler: (event: unknown, context: Context) => Promise<unknown>;
let addMetric: MockInstance<Metrics['addMetric']>;
/** The emulator's 1080p, 6 s video with audio: what REQUEST asks for. */
let real: Buffer;
const REQUEST = { prompt: 'a red fox', resolution: '1080p', duration: 6, generateAudio: true } as const;

/** A `size`-byte MP4 with the real video's structure and moov (its mdat padded). */
const paddedVideo = (size: number): Buffer => {
  const body = Buffer.alloc(size, 0x42);
  paddedMp4Head(real, size).copy(body);
  return body;
};

beforeAll(async () => {
  [s3, table, video] = await Promise.all([
    startLocalS3('videos-bucket'),
    startJobsTable(),
    startVideoServer(),
  ]);
  real = await realMp4(DEFAULT_VARIANT);
  process.env[ENV.videosBucket] = s3.bucket;
  process.env[ENV.jobsTable] = table.tableName;
  process.env[ENV.allowedVideoHosts] = video.hostPort;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  configureAwsClients({ s3: s3.config, dynamodb: table.clientConfig });
  // Imported after the environment is set: the handler reads its configuration at load.
  ({ handler } = await import('#functions/store-video'));
  const { metrics } = await import('#commons/powertools');
  addMetric = vi.spyOn(metrics, 'addMetric');
});

afterAll(async () => {
  await Promise.all([s3?.close(), table?.close(), video?.close()]);
});

const context = (): Context =>
  ({
    functionName: 'StoreVideo',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:StoreVideo',
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/StoreVideo',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 120_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }) as Context;

let counter = 0;
/** A job in PROCESSING, and a payload pointing at `route` on the video server. */
const arrange = async (route: Route, result: Partial<StoreVideoPayload['result']> = {}) => {
  counter += 1;
  const jobId = `job-${counter}`;
  const path = `/generations/${jobId}.mp4`;
  video.route(path, route);
  await table.putJob(pendingJob(jobId, { status: 'PROCESSING' }));
  const payload: StoreVideoPayload = {
    jobId,
    request: REQUEST,
    segmind: { requestId: `segmind-${counter}`, submittedAt: new Date().toISOString() },
    result: { videoUrl: `${video.origin}${path}`, ...result },
  };
  return { jobId, path, payload };
};

const jobRecord = (jobId: string) => table.getJob(jobId);

/** Everything in the bucket: the final prefix and the staging area alike. */
const allKeys = (): Promise<string[]> => s3.keys('');

const todayPrefix = (): string => {
  const now = new Date();
  return `videos/${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}/`;
};

let eightSeconds: Buffer;

describe('StoreVideo handler', () => {
  it('copies the video into videos/YYYY/MM/DD/{jobId}.mp4 with its sha256 and marks the job STORING', async () => {
    const body = paddedVideo(3 * 1024 * 1024 + 17);
    const { jobId, payload } = await arrange(serveBytes(body), {
      fileSize: body.length,
      contentType: 'video/mp4',
    });

    const stored = await handler(payload, context());

    const key = `${todayPrefix()}${jobId}.mp4`;
    expect(stored).toEqual({
      bucket: 'videos-bucket',
      key,
      bytes: body.length,
      sha256: sha256Hex(body),
      contentType: 'video/mp4',
    });
    const object = await s3.object(key);
    expect(sha256Hex(object.bytes)).toBe(sha256Hex(body));
    expect(object.contentType).toBe('video/mp4');
    expect(object.metadata).toEqual({
      sha256: sha256Hex(body),
      jobid: jobId,
      'segmind-request-id': payload.segmind.requestId,
    });
    expect(await jobRecord(jobId)).toMatchObject({ status: 'STORING', storingAt: expect.any(String) });
    expect(addMetric).toHaveBeenCalledWith('VideoBytesStored', 'Bytes', body.length);
  });

  it('stores a real MP4 served with a generic content type', async () => {
    const body = real;
    const { payload } = await arrange(serveBytes(body, { 'content-type': 'binary/octet-stream' }));
    await expect(handler(payload, context())).resolves.toMatchObject({
      bytes: body.length,
      contentType: 'video/mp4',
    });
  });

  it('does not download the video of a cancelled job', async () => {
    const { jobId, path, payload } = await arrange(serveBytes(real));
    await table.putJob(pendingJob(jobId, { status: 'CANCELLED' }));
    addMetric.mockClear();
    await expect(handler(payload, context())).rejects.toMatchObject({ name: 'JobCancelledError' });
    expect(addMetric).toHaveBeenCalledWith('VideoStoreFailures', 'Count', 1);
    expect(video.requests.some((r) => r.path === path)).toBe(false);
  });

  describe('leaves no object behind', () => {
    const before = { keys: [] as string[] };
    beforeAll(async () => {
      eightSeconds = await realMp4({ ...DEFAULT_VARIANT, duration: 8 });
      before.keys = await allKeys();
    });

    it.each<[string, () => Route, Partial<StoreVideoPayload['result']>, string]>([
      [
        'the connection drops mid-body',
        () => serveTruncated(paddedVideo(12 * 1024 * 1024), 9 * 1024 * 1024),
        {},
        'VideoTransferError',
      ],
      [
        'the body is smaller than file_size',
        () => serveBytes(paddedVideo(10 * 1024 * 1024)),
        { fileSize: 10 * 1024 * 1024 + 1 },
        'VideoIntegrityError',
      ],
      [
        'the body without Content-Length is larger than file_size',
        () => (_request, response) => {
          response.writeHead(200, { 'content-type': 'video/mp4' }); // chunked
          response.end(paddedVideo(9 * 1024 * 1024));
        },
        { fileSize: 6 * 1024 * 1024 },
        'VideoIntegrityError',
      ],
      [
        'the body without Content-Length is smaller than file_size',
        () => (_request, response) => {
          response.writeHead(200, { 'content-type': 'video/mp4' }); // chunked
          response.end(paddedVideo(9 * 1024 * 1024));
        },
        { fileSize: 9 * 1024 * 1024 + 1 },
        'VideoIntegrityError',
      ],
      [
        'the body is not an MP4 and says so',
        () => serveBytes(Buffer.alloc(20_000, 0x3c), { 'content-type': 'text/html' }),
        {},
        'VideoIntegrityError',
      ],
      [
        'the body is labelled video/mp4 but has no MP4 signature (corrupted)',
        () => serveBytes(Buffer.alloc(6 * 1024 * 1024, 0x00)),
        {},
        'VideoIntegrityError',
      ],
      [
        'the video is not the requested one (8 s for a 6 s job)',
        () => serveBytes(eightSeconds),
        {},
        'VideoIntegrityError',
      ],
      [
        'the server answers 403',
        () => (_request, response) => void response.writeHead(403).end(),
        {},
        'VideoTransferError',
      ],
    ])('when %s: download again later, or fail at the deadline', async (_when, route, result, errorName) => {
      const { jobId, payload } = await arrange(route(), result);
      // While Segmind still holds the result: fetch it and download again.
      const retry = await handler(payload, context());
      expect(retry).toMatchObject({
        reason: errorName === 'VideoIntegrityError' ? 'video-invalid' : 'video-transfer-failed',
        attempt: 1,
        retryAt: expect.any(String),
      });
      expect(await allKeys()).toEqual(before.keys);
      // Past the retention deadline: the job fails with the error itself.
      const late = { ...payload, segmind: { ...payload.segmind, submittedAt: '2000-01-01T00:00:00.000Z' } };
      await expect(handler({ ...late, video: retry }, context())).rejects.toMatchObject({
        name: errorName,
        message: expect.stringContaining('after 2 attempts'),
      });
      expect(await allKeys()).toEqual(before.keys);
      expect(await s3.keys(`${todayPrefix()}${jobId}`)).toEqual([]);
    });

    it('when the URL is not one we may fetch', async () => {
      const { payload } = await arrange(serveBytes(real));
      payload.result.videoUrl = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
      await expect(handler(payload, context())).rejects.toMatchObject({ name: 'UnsafeVideoUrlError' });
      expect(await allKeys()).toEqual(before.keys);
    });
  });

  it('refuses a payload it cannot read, naming the field', async () => {
    await expect(
      handler({ jobId: '../etc', segmind: { requestId: 'r' }, result: { videoUrl: 'x' } }, context()),
    ).rejects.toMatchObject({ name: 'InvalidPayloadError', message: expect.stringContaining('jobId') });
    await expect(handler({ jobId: 'ok' }, context())).rejects.toMatchObject({ name: 'InvalidPayloadError' });
    // Without the request there is nothing to check the video against.
    await expect(
      handler({ jobId: 'ok', segmind: { requestId: 'r' }, result: { videoUrl: 'x' } }, context()),
    ).rejects.toMatchObject({ name: 'InvalidPayloadError', message: expect.stringContaining('request') });
  });

  it('streams a 200 MB video in bounded memory', async () => {
    const size = 200 * 1024 * 1024;
    const generated = serveGenerated(size, 7, paddedMp4Head(real, size));
    const { jobId, payload } = await arrange(generated.route, { fileSize: size });

    global.gc?.();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    const started = Date.now();
    let stored: unknown;
    try {
      stored = await handler(payload, context());
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    const growthMb = (peak - baseline) / 1024 ** 2;
    // Recorded for the report, not asserted tightly: RSS also holds s3rver, which runs in this process.
    console.info(
      `store-video 200 MB: ${seconds.toFixed(1)} s, ${(200 / seconds).toFixed(0)} MB/s, ` +
        `RSS baseline ${(baseline / 1024 ** 2).toFixed(0)} MB, peak growth ${growthMb.toFixed(0)} MB`,
    );

    const sent = await generated.digest;
    expect(stored).toMatchObject({ bytes: size, sha256: sent, key: `${todayPrefix()}${jobId}.mp4` });
    const object = await s3.client.send(
      new GetObjectCommand({ Bucket: s3.bucket, Key: `${todayPrefix()}${jobId}.mp4` }),
    );
    expect(object.ContentLength).toBe(size);
    expect(object.Metadata?.sha256).toBe(sent);
    const hash = createHash('sha256');
    for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(sent);
    expect(growthMb).toBeLessThan(400);
  }, 120_000);
});
