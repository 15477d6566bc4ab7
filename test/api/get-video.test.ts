// GET /videos/{jobId} through the real middy handler; DynamoDB behind aws-sdk-client-mock, presigning real.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobViewSchema } from '#domain/api-schemas';
import type { VideoJob } from '#domain/video-job';
import {
  type ApiHandler,
  apiEvent,
  CALLER_OWNER,
  fieldsOf,
  invoke,
  stubApiEnvironment,
} from '#test/api/support/api-events';
import { fakeJobsTable } from '#test/api/support/fake-jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

const table = fakeJobsTable();
let handler: ApiHandler;

beforeAll(async () => {
  stubApiEnvironment();
  ({ handler } = await import('#functions/api/get-video'));
});
afterAll(() => {
  vi.unstubAllEnvs();
});
beforeEach(() => table.reset());

const get = (jobId: string) =>
  invoke(
    handler,
    apiEvent({
      method: 'GET',
      resource: '/videos/{jobId}',
      path: `/videos/${jobId}`,
      pathParameters: { jobId },
    }),
  );

const completed: VideoJob = pendingJob('job-done', {
  owner: CALLER_OWNER,
  status: 'COMPLETED',
  requestHash: 'sha256:abc',
  submitState: 'ACCEPTED',
  statusUrl: 'https://api.segmind.com/v2/requests/r1/status',
  segmindRequestId: 'r1',
  completedAt: '2030-01-01T00:01:00.000Z',
  video: {
    bucket: 'videos-bucket',
    key: 'videos/job-done.mp4',
    bytes: 481_234,
    sha256: 'f'.repeat(64),
    contentType: 'video/mp4',
  },
  metrics: { cost: 0.52, inferenceTime: 41.2 },
});

describe('GET /videos/{jobId}', () => {
  it('answers the record as callers see it, without the workflow bookkeeping', async () => {
    table.put(
      pendingJob('job-1', {
        owner: CALLER_OWNER,
        status: 'PROCESSING',
        requestHash: 'sha256:abc',
        submitState: 'ACCEPTED',
      }),
    );

    const result = await get('job-1');

    expect(result.statusCode).toBe(200);
    expect(jobViewSchema.parse(result.body)).toMatchObject({
      jobId: 'job-1',
      status: 'PROCESSING',
      links: { self: '/v1/videos/job-1' },
    });
    expect(result.body).not.toHaveProperty('requestHash');
    expect(result.body).not.toHaveProperty('submitState');
    expect(result.body.links).not.toHaveProperty('video');
  });

  it('adds a presigned download URL with a short expiry once the job is COMPLETED', async () => {
    table.put(completed);

    const result = await get('job-done');

    expect(result.statusCode).toBe(200);
    const view = jobViewSchema.parse(result.body);
    const link = view.links.video;
    expect(link).toBeDefined();
    const url = new URL(link?.url ?? '');
    expect(url.hostname).toBe('videos-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/videos/job-done.mp4');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    expect(url.searchParams.get('X-Amz-Signature')).toBeTruthy();
    const expiresIn = Date.parse(link?.expiresAt ?? '') - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(600_000);
    expect(view).toMatchObject({
      video: { bytes: 481_234, sha256: 'f'.repeat(64) },
      metrics: { cost: 0.52 },
    });
    expect(result.raw).not.toContain('segmind.com');
  });

  it('says why a job ended without a video', async () => {
    table.put(
      pendingJob('job-x', {
        owner: CALLER_OWNER,
        status: 'FAILED',
        errorCode: 'SegmindJobFailedError',
        errorMessage: 'blocked',
      }),
    );
    const result = await get('job-x');
    expect(result.body.error).toEqual({ code: 'SegmindJobFailedError', message: 'blocked' });
  });

  it('answers 404 for a job that does not exist', async () => {
    const result = await get('job-nope');
    expect(result.statusCode).toBe(404);
    expect(result.body.error).toMatchObject({ code: 'NotFound', message: 'there is no job job-nope' });
  });

  it("answers another caller's job, or one without an owner, exactly as a missing one: 404", async () => {
    table.put(pendingJob('job-bob', { owner: 'iam:arn:aws:iam::123456789012:user/bob' }));
    table.put(pendingJob('job-legacy'));
    for (const jobId of ['job-bob', 'job-legacy']) {
      const result = await get(jobId);
      expect(result.statusCode).toBe(404);
      expect(result.body.error).toMatchObject({ code: 'NotFound', message: `there is no job ${jobId}` });
    }
  });

  it('refuses a malformed job id with a 400 naming it, without reading the table', async () => {
    const result = await get('not a job id!');
    expect(result.statusCode).toBe(400);
    expect(fieldsOf(result)).toEqual(['jobId']);
    expect(table.mock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers a generic 500 with the request id when DynamoDB fails', async () => {
    table.mock.on(GetCommand).rejects(new Error('connect ECONNREFUSED 10.0.0.1:443'));
    const result = await get('job-1');
    expect(result.statusCode).toBe(500);
    expect(result.body.error).toMatchObject({ code: 'InternalError', requestId: expect.any(String) });
    expect(result.raw).not.toContain('ECONNREFUSED');
  });
});
