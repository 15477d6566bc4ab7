// Jobs Segmind does not complete: each ends in the terminal status and error a user should see, without
// a video, and fail-fast errors cost exactly one request.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import {
  describeJob,
  emulatorOf,
  eventTypesOf,
  startTestStack,
  videoKeysOf,
} from '#test/workflow/support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 100 });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => emulatorOf(stack).control.reset());

const SHORT_JOB = { resolution: '1080p', duration: 6 } as const;

describe('a job Segmind reports as FAILED', () => {
  it('ends FAILED with the detail Segmind gave (HTTP 422), no video, and a failure event', async () => {
    const detail = 'Prompt is Mandatory and must be string';
    emulatorOf(stack).control.addFailureRule({
      promptContains: 'melting clock',
      kind: 'failed',
      error: detail,
    });

    const { job, execution } = await stack.runJob({ prompt: 'a melting clock', ...SHORT_JOB });

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('SegmindJobFailedError');
    expect(job.errorMessage).toContain(detail);
    expect(job.segmindRequestId).toEqual(expect.any(String));
    expect(job.video).toBeUndefined();
    expect(execution).toMatchObject({ status: 'FAILED', error: 'SegmindJobFailedError' });
    expect(await videoKeysOf(stack, job.jobId)).toEqual([]);
    expect(eventTypesOf(stack, job.jobId)).toEqual(['Video Generation Failed']);
    const counters = emulatorOf(stack).control.counters();
    expect(counters.byEndpoint.status).toBeGreaterThanOrEqual(1);
    expect(counters.byEndpoint.download).toBe(0);
  });

  it("ends FAILED with the safety filter's message when the content is blocked", async () => {
    emulatorOf(stack).control.addFailureRule({ promptContains: 'forbidden', kind: 'content-blocked' });

    const { job } = await stack.runJob({ prompt: 'something forbidden', ...SHORT_JOB });

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('SegmindJobFailedError');
    expect(job.errorMessage).toMatch(/content/i);
    expect(job.video).toBeUndefined();
  });
});

describe('a job whose result Segmind no longer has', () => {
  it('ends EXPIRED when status answers 404 after the retention window', async () => {
    // Kept 5 emulated seconds: gone long before the first poll (≈ 20 s after submit for this job).
    emulatorOf(stack).control.configure({ retentionSeconds: 5 });

    const { job } = await stack.runJob({ prompt: 'a slow sunrise', ...SHORT_JOB });

    expect(job.status, describeJob(job)).toBe('EXPIRED');
    expect(job.errorCode).toBe('SegmindNotFoundError');
    expect(job.errorMessage).toContain(job.segmindRequestId);
    expect(job.video).toBeUndefined();
    expect(emulatorOf(stack).control.counters().byEndpoint.submit).toBe(1);
  });
});

describe('errors that retrying cannot fix fail fast', () => {
  it('a rejected API key (401 on submit): FAILED after one request, no retry storm', async () => {
    emulatorOf(stack).control.injectFault({
      endpoint: 'submit',
      kind: 'http-error',
      status: 401,
      body: 'json',
      count: Infinity,
    });

    const { job, stats } = await stack.runJob({ prompt: 'a red fox', ...SHORT_JOB });

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('SegmindAuthError');
    expect(job.segmindRequestId).toBeUndefined();
    const counters = emulatorOf(stack).control.counters();
    expect(counters.byEndpoint.submit).toBe(1);
    expect(counters.jobsCreated).toBe(0);
    expect(stats?.segmindRequests?.total).toBe(1);
  });

  it('no credits left (406 on submit): FAILED after one request', async () => {
    const control = emulatorOf(stack).control;
    for (const apiKey of emulatorOf(stack).apiKeys) control.setCredits(apiKey, 0);

    const { job } = await stack.runJob({ prompt: 'a red fox', ...SHORT_JOB });

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('SegmindInsufficientCreditsError');
    expect(control.counters().byEndpoint.submit).toBe(1);
    expect(control.counters().jobsCreated).toBe(0);
  });
});
