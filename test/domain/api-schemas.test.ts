// What the API shows of a job record: never a credential.
import { describe, expect, it } from 'vitest';
import { jobViewSchema, toJobView, withoutPresignature } from '#domain/api-schemas';
import type { VideoJob } from '#domain/video-job';

const presigned =
  'https://uploads.example/uploads/cat.png?versionId=v1&X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  '&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261124T000000Z' +
  '&X-Amz-Expires=3600&X-Amz-Security-Token=session-token&X-Amz-Signature=abc123&X-Amz-SignedHeaders=host';

const job = (imageUrl?: string): VideoJob => ({
  jobId: 'upload-1',
  status: 'PROCESSING',
  source: 'upload',
  request: {
    prompt: 'the cat turns its head',
    duration: 6,
    resolution: '1080p',
    generateAudio: true,
    ...(imageUrl === undefined ? {} : { imageUrl }),
  },
  createdAt: '2026-11-24T00:00:00.000Z',
  updatedAt: '2026-11-24T00:00:00.000Z',
});

describe('the job as the API shows it', () => {
  it('drops the signature, credential and session token of a presigned image URL, keeping where it points', () => {
    const view = toJobView(job(presigned), { self: '/v1/videos/upload-1' });
    expect(view.request.imageUrl).toBe('https://uploads.example/uploads/cat.png?versionId=v1');
    expect(JSON.stringify(view)).not.toMatch(/session-token|abc123|AKIDEXAMPLE/);
  });

  it('leaves an ordinary image URL, and a request without one, as they are', () => {
    const plain = job('https://images.example/cat.png?size=large').request;
    expect(withoutPresignature(plain)).toBe(plain);
    const noImage = job().request;
    expect(withoutPresignature(noImage)).toBe(noImage);
  });

  it('says why a running job waits and until when, and stops saying it once the job has ended', () => {
    const waiting = { reason: 'rate-limited', until: '2026-11-24T00:01:00.000Z', detail: 'HTTP 429' };
    const running = toJobView({ ...job(), waiting }, { self: '/v1/videos/upload-1' });
    expect(running.retrying).toEqual(waiting);
    expect(jobViewSchema.safeParse(running).success).toBe(true);
    const ended = toJobView({ ...job(), status: 'TIMED_OUT', waiting }, { self: '/v1/videos/upload-1' });
    expect(ended).not.toHaveProperty('retrying');
  });
});

describe('a job waiting for the rate budget', () => {
  const wait = { place: 4, until: '2026-11-24T00:01:00.000Z' };

  it('says so while PENDING, with its place in line and when it tries again', () => {
    const view = toJobView(
      { ...job(), status: 'PENDING', rateBudgetWait: wait },
      { self: '/v1/videos/upload-1' },
    );
    expect(view.waiting).toEqual({ for: 'waiting for rate budget', place: 4, until: wait.until });
    expect(jobViewSchema.parse(view)).toEqual(view);
  });

  it('no longer once the job has moved on', () => {
    const view = toJobView(
      { ...job(), status: 'QUEUED', rateBudgetWait: wait },
      { self: '/v1/videos/upload-1' },
    );
    expect(view.waiting).toBeUndefined();
  });
});
