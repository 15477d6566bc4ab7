// A job's status as a pure function of the clock and what it waits for.
import { describe, expect, it } from 'vitest';
import { type Job, jobState, jobTimings } from '#emulator/jobs';

const job = (over: Partial<Job> = {}): Job => ({
  requestId: 'r',
  apiKey: 'k',
  prompt: 'p',
  image: null,
  variant: { resolution: '1080p', duration: 6, audio: true },
  submittedAt: 0,
  submittedAtReal: 0,
  latency: { queueSeconds: 2, inferenceSeconds: 40, coldWorker: false },
  failure: undefined,
  videoToken: 't',
  video: { state: 'done', at: 0, value: { path: '/v.mp4', size: 10 } },
  imageFetch: { state: 'done', at: 0, value: true },
  ...over,
});

describe('jobState', () => {
  it('is QUEUED, then PROCESSING, then COMPLETED at queue + inference', () => {
    expect(jobState(job(), 1_999).status).toBe('QUEUED');
    expect(jobState(job(), 2_000).status).toBe('PROCESSING');
    expect(jobState(job(), 41_999).status).toBe('PROCESSING');
    expect(jobState(job(), 42_000)).toMatchObject({ status: 'COMPLETED', finishedAt: 42_000 });
    expect(jobTimings(job(), 42_000)).toEqual({ queueTime: 2, inferenceTime: 40, totalTime: 42 });
  });

  it('never COMPLETES before its file exists, and finishes when it does', () => {
    expect(jobState(job({ video: { state: 'pending' } }), 100_000).status).toBe('PROCESSING');
    const late = job({ video: { state: 'done', at: 50_000, value: { path: '/v.mp4', size: 1 } } });
    expect(jobState(late, 60_000)).toMatchObject({ status: 'COMPLETED', finishedAt: 50_000 });
  });

  it('FAILS with an internal error when the file could not be made', () => {
    const broken = job({ video: { state: 'failed', at: 1_000, error: 'ffmpeg missing' } });
    expect(jobState(broken, 42_000)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/internal/i),
    });
  });

  it('fails a content block early and a crash a quarter of the way in', () => {
    const blocked = job({ failure: { kind: 'content-blocked', error: 'blocked' } });
    expect(jobState(blocked, 2_900)).toMatchObject({ status: 'FAILED', error: 'blocked', finishedAt: 2_800 });
    const crashed = job({ failure: { kind: 'failed', error: 'boom' } });
    expect(jobState(crashed, 11_999).status).toBe('PROCESSING');
    expect(jobState(crashed, 12_000)).toMatchObject({ status: 'FAILED', error: 'boom' });
  });

  it('fails when the first-frame image cannot be fetched, and waits while the fetch is pending', () => {
    const unreachable = job({
      image: 'http://127.0.0.1/x.png',
      imageFetch: { state: 'failed', at: 500, error: 'HTTP 403' },
    });
    expect(jobState(unreachable, 3_000)).toMatchObject({
      status: 'FAILED',
      error: 'HTTP 403',
      finishedAt: 3_000,
    });
    const pending = job({ image: 'http://127.0.0.1/x.png', imageFetch: { state: 'pending' } });
    expect(jobState(pending, 100_000).status).toBe('PROCESSING');
  });
});
