// A job Segmind never finishes ends TIMED_OUT at the polling deadline (40 emulated minutes), well inside
// Segmind's one-hour retention. Its own file: a time scale of 2000 keeps the 40 minutes to about a second.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import { describeJob, emulatorOf, startTestStack } from '#test/workflow/support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 2000 });
});

afterAll(async () => {
  await stack?.stop();
});

it('ends TIMED_OUT when Segmind keeps the job QUEUED past the deadline', async () => {
  const control = emulatorOf(stack).control;
  control.configure({
    // Never picked up: every draw lands at ~4 months of queueing.
    latency: {
      queueMedianSeconds: 1e7,
      queueSigma: 0,
      coldWorkerProbability: 0,
      totalRangeSeconds: [1e7, 1e7],
    },
    // The polls are seconds apart in emulated time; keep the rate limit out of this test.
    rateLimitPerMinute: 1_000_000,
  });

  const { job } = await stack.runJob({ prompt: 'a very long queue', resolution: '1080p', duration: 6 });

  expect(job.status, describeJob(job)).toBe('TIMED_OUT');
  expect(job.errorCode).toBe('JobDeadlineExceededError');
  expect(job.segmindRequestId).toEqual(expect.any(String));
  const counters = control.counters();
  expect(counters.byEndpoint.status).toBeGreaterThan(1);
  // The record tells how long it waited and how often it asked.
  expect(job.errorMessage).toContain(`after ${counters.byEndpoint.status} polls`);
  expect(counters.byEndpoint.result).toBe(0);
  expect(counters.jobsCreated).toBe(1);
});
