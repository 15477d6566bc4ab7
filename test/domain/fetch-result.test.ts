// FetchResult: the video URL for StoreVideo, Segmind's cost and timings on the record, "try again at T"
// while Segmind throttles, fails or is not ready, and the right error when the result is gone or the
// retention deadline has passed.

import { beforeEach, describe, expect, it } from 'vitest';
import { JobDeadlineExceededError } from '#domain/errors';
import { type FetchResultDeps, type FetchResultOutput, fetchResult } from '#domain/fetch-result';
import { DEFAULT_RETRY_POLICY, isRetryLater, type RetryLater } from '#domain/retry-later';
import type { FetchedResult } from '#domain/video-job';
import {
  SegmindJobFailedError,
  SegmindMalformedResponseError,
  SegmindNotFoundError,
  SegmindRateLimitedError,
  SegmindTimeoutError,
  SegmindUnavailableError,
} from '#segmind/errors';
import { FakeSegmind, fixedClock, InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

const JOB = 'job-1';
const START = '2030-01-01T00:00:10.000Z';
const SEGMIND = {
  requestId: 'req-1',
  responseUrl: 'https://api.segmind.test/v2/requests/req-1',
  // Accepted at the clock's start; each test begins a minute later.
  submittedAt: '2030-01-01T00:00:10.000Z',
};

let store: InMemoryJobStore;
let segmind: FakeSegmind;
let clock: ReturnType<typeof fixedClock>;
let deps: FetchResultDeps;

beforeEach(() => {
  store = new InMemoryJobStore();
  segmind = new FakeSegmind();
  clock = fixedClock(START);
  clock.advance(60);
  deps = { store, segmind, clock, random: () => 0.5 };
  store.put(pendingJob(JOB, { status: 'PROCESSING', segmindRequestId: 'req-1' }));
});

const fetched = (output: FetchResultOutput): FetchedResult => {
  if (isRetryLater(output)) throw new Error(`expected the result, got ${JSON.stringify(output)}`);
  return output;
};
const retry = (output: FetchResultOutput): RetryLater => {
  if (!isRetryLater(output)) throw new Error(`expected a retry, got ${JSON.stringify(output)}`);
  return output;
};
const secondsUntil = (iso: string): number => (Date.parse(iso) - clock.now().getTime()) / 1000;

describe('fetchResult', () => {
  it('returns the video and records the metrics on the job', async () => {
    const result = fetched(await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps));

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
    const result = fetched(await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps));
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

  it('asks to be retried shortly while the result is still pending', async () => {
    segmind.resultScript.push({ status: 'PROCESSING', requestId: 'req-1', metrics: {}, pending: true });
    const answer = retry(await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps));
    expect(answer).toMatchObject({ reason: 'result-not-ready', attempt: 1 });
    expect(secondsUntil(answer.retryAt)).toBeGreaterThanOrEqual(1);
    expect(secondsUntil(answer.retryAt)).toBeLessThanOrEqual(2);
    // The record shows why the job waits and until when; fetching the result clears that.
    expect(store.writes).toEqual(['recordWaiting:job-1']);
    expect(store.peek(JOB)?.waiting).toMatchObject({ reason: 'result-not-ready', until: answer.retryAt });
    fetched(await fetchResult({ jobId: JOB, segmind: SEGMIND, previous: answer }, deps));
    expect(store.peek(JOB)?.waiting).toBeUndefined();
  });

  it('waits for the rate-limit reset (plus jitter), not a fixed backoff, on a 429', async () => {
    const resetAt = new Date(clock.now().getTime() + 37_000);
    segmind.resultScript.push(new SegmindRateLimitedError('429', resetAt));
    const answer = retry(await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps));
    expect(answer).toMatchObject({ reason: 'rate-limited', attempt: 1, detail: '429' });
    // random 0.5: half of the 3 s jitter past the reset.
    expect(secondsUntil(answer.retryAt)).toBeCloseTo(37 + 1.5, 3);
  });

  it('honours the reset on the fifth 429 in a row as on the first', async () => {
    let previous: FetchResultOutput | undefined;
    for (let n = 1; n <= 5; n += 1) {
      const resetAt = new Date(clock.now().getTime() + 50_000);
      segmind.resultScript.push(new SegmindRateLimitedError('429', resetAt));
      const answer = retry(await fetchResult({ jobId: JOB, segmind: SEGMIND, previous }, deps));
      expect(answer.attempt).toBe(n);
      expect(secondsUntil(answer.retryAt)).toBeCloseTo(51.5, 3);
      clock.advance(secondsUntil(answer.retryAt));
      previous = answer;
    }
    const result = fetched(await fetchResult({ jobId: JOB, segmind: SEGMIND, previous }, deps));
    expect(result.videoUrl).toContain('.mp4');
    expect(segmind.resultCalls).toHaveLength(6);
  });

  it.each([
    ['a 5xx', new SegmindUnavailableError('502 Bad Gateway', 'not-created')],
    ['a timeout', new SegmindTimeoutError('read timeout', 'not-created')],
    ['an unreadable answer', new SegmindMalformedResponseError('not JSON', 'not-created')],
  ])('backs off exponentially after %s', async (_what, error) => {
    const waits: number[] = [];
    let previous: FetchResultOutput | undefined;
    for (let n = 1; n <= 4; n += 1) {
      segmind.resultScript.push(error);
      const answer = retry(await fetchResult({ jobId: JOB, segmind: SEGMIND, previous }, deps));
      expect(answer).toMatchObject({ reason: 'upstream-unavailable', attempt: n });
      waits.push(secondsUntil(answer.retryAt));
      previous = answer;
    }
    // Equal jitter at draw 0.5: three quarters of 2, 4, 8, 16 s.
    expect(waits).toEqual([1.5, 3, 6, 12]);
  });

  it('gives up at the retention deadline, not after a number of attempts: TIMED_OUT with the reason', async () => {
    const deadline = DEFAULT_RETRY_POLICY.deadlineSeconds;
    // Just before the deadline: the wait is clamped so the last attempt lands on it.
    clock.advance(deadline - 60 - 5);
    segmind.resultScript.push(new SegmindUnavailableError('503', 'not-created'));
    const earlier: RetryLater = { retryAt: START, reason: 'upstream-unavailable', attempt: 3, detail: '503' };
    const last = retry(await fetchResult({ jobId: JOB, segmind: SEGMIND, previous: earlier }, deps));
    // The fourth backoff would be 12 s; 5 s are left.
    expect(last.attempt).toBe(4);
    expect(secondsUntil(last.retryAt)).toBeCloseTo(5, 3);
    clock.advance(5);
    segmind.resultScript.push(new SegmindRateLimitedError('429', undefined));
    const error = await fetchResult({ jobId: JOB, segmind: SEGMIND, previous: last }, deps).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobDeadlineExceededError);
    expect((error as Error).message).toMatch(/request req-1 could not be fetched/);
    expect((error as Error).message).toMatch(/after 5 attempts; last: rate-limited: 429/);
  });

  it("lets Segmind's own errors through, e.g. an expired request", async () => {
    const expired = new SegmindNotFoundError('Request req-1 not found');
    segmind.resultScript.push(expired);
    await expect(fetchResult({ jobId: JOB, segmind: SEGMIND }, deps)).rejects.toBe(expired);
  });

  it('still hands on the video when the job record is gone', async () => {
    store.items.clear();
    const result = fetched(await fetchResult({ jobId: JOB, segmind: SEGMIND }, deps));
    expect(result.videoUrl).toContain('.mp4');
  });
});
