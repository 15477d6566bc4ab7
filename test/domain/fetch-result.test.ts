// FetchResult: the video URL for StoreVideo, Segmind's cost and timings on the record, and the right error
// when the result is not there.

import { beforeEach, describe, expect, it } from 'vitest';
import { ResultNotReadyError } from '#domain/errors';
import { type FetchResultDeps, fetchResult } from '#domain/fetch-result';
import { SegmindJobFailedError, SegmindNotFoundError } from '#segmind/errors';
import { FakeSegmind, fixedClock, InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

const JOB = 'job-1';
const SEGMIND = { requestId: 'req-1', responseUrl: 'https://api.segmind.test/v2/requests/req-1' };

let store: InMemoryJobStore;
let segmind: FakeSegmind;
let deps: FetchResultDeps;

beforeEach(() => {
  store = new InMemoryJobStore();
  segmind = new FakeSegmind();
  deps = { store, segmind, clock: fixedClock() };
  store.put(pendingJob(JOB, { status: 'PROCESSING', segmindRequestId: 'req-1' }));
});

describe('fetchResult', () => {
  it('returns the video and records the metrics on the job', async () => {
    const result = await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps);

    expect(segmind.resultCalls).toEqual([SEGMIND.responseUrl]);
    expect(result).toEqual({
      videoUrl: 'https://images.segmind.test/generations/req-1.mp4',
      fileSize: 1234,
      contentType: 'video/mp4',
      metrics: { inferenceTime: 41.2, queueTime: 3.1, totalTime: 44.3, cost: 0.52, remainingCredits: 118.4 },
    });
    expect(store.peek(JOB)?.metrics).toEqual(result.metrics);
  });

  it('leaves out what Segmind did not say about the file', async () => {
    segmind.resultScript.push({
      status: 'COMPLETED',
      requestId: 'req-1',
      video: { url: 'https://x.test/v.mp4' },
      metrics: {},
    });
    const result = await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps);
    expect(result).toEqual({ videoUrl: 'https://x.test/v.mp4', metrics: {} });
    expect(Object.keys(result)).not.toContain('fileSize');
  });

  it("throws SegmindJobFailedError with Segmind's detail when the job failed", async () => {
    segmind.resultScript.push({
      status: 'FAILED',
      requestId: 'req-1',
      error: 'Prompt is Mandatory and must be string',
      metrics: {},
    });
    const error = await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SegmindJobFailedError);
    expect((error as SegmindJobFailedError).detail).toBe('Prompt is Mandatory and must be string');
    expect((error as SegmindJobFailedError).requestId).toBe('req-1');
  });

  it('throws the retryable ResultNotReadyError while the result is still pending', async () => {
    segmind.resultScript.push({ status: 'PROCESSING', requestId: 'req-1', metrics: {}, pending: true });
    const error = await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResultNotReadyError);
    expect((error as ResultNotReadyError).retryable).toBe(true);
    expect(store.writes).toEqual([]);
  });

  it("lets Segmind's own errors through, e.g. an expired request", async () => {
    const expired = new SegmindNotFoundError('Request req-1 not found');
    segmind.resultScript.push(expired);
    await expect(fetchResult({ jobId: JOB, segmind: SEGMIND }, deps)).rejects.toBe(expired);
  });

  it('still hands on the video when the job record is gone', async () => {
    store.items.clear();
    const result = await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps);
    expect(result.videoUrl).toContain('.mp4');
  });
});
