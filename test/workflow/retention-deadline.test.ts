// A paid job is retried until Segmind's retention deadline, then ends terminal: the deadline, not a count,
// ends the loop. Its own file: a time scale of 2000 runs the 50 emulated minutes in about 1.5 s.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '#domain/retry-later';
import type { VideoJob } from '#domain/video-job';
import type { LocalStack } from '#local/stack';
import {
  allKeysUnder,
  describeJob,
  emulatorOf,
  startTestStack,
  videoKeysOf,
} from '#test/workflow/support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 2000 });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  const control = emulatorOf(stack).control;
  control.reset();
  // Dozens of requests per emulated minute: keep Segmind's own limit out of these tests.
  control.configure({ rateLimitPerMinute: 1_000_000 });
});

const SHORT_JOB = { prompt: 'a red fox running through snow', resolution: '1080p', duration: 6 } as const;

/** Emulated seconds from the submit to the end of the job. */
const lifetime = (job: VideoJob): number =>
  ((Date.parse(job.failedAt ?? job.completedAt ?? '') - Date.parse(job.submittedAt ?? '')) / 1000) *
  stack.timeScale;

describe('at the retention deadline', () => {
  it('a download that is never good ends FAILED, after as many fresh downloads as the deadline allowed, no object', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'download', kind: 'corrupt', count: Infinity });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('VideoIntegrityError');
    expect(job.errorMessage).toMatch(/could not be stored: gave up .* last: video-invalid/);
    // The deadline ended it, while Segmind still answered (past its retention the result would be a 404,
    // and the job EXPIRED).
    expect(lifetime(job)).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.deadlineSeconds);
    const counters = control.counters();
    // Attempts as the deadline allowed (how many depends on this machine's speed at 2000x), each from a
    // fresh result; a fixed count gave a corrupt download one attempt.
    expect(counters.byEndpoint.download).toBeGreaterThanOrEqual(4);
    expect(counters.byEndpoint.result).toBe(counters.byEndpoint.download);
    expect(job.video).toBeUndefined();
    expect(await videoKeysOf(stack, job.jobId)).toEqual([]);
    expect(await allKeysUnder(stack, 'staging/')).toEqual([]);
  });

  it('downloads cut short every time end FAILED with VideoTransferError, no object', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'download', kind: 'truncate', count: Infinity });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('VideoTransferError');
    expect(lifetime(job)).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.deadlineSeconds);
    expect(await videoKeysOf(stack, job.jobId)).toEqual([]);
    expect(await allKeysUnder(stack, 'staging/')).toEqual([]);
  });

  it('a result that stays rate-limited ends TIMED_OUT, saying why', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'result', kind: 'rate-limit', count: Infinity });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('TIMED_OUT');
    expect(job.errorCode).toBe('JobDeadlineExceededError');
    expect(job.errorMessage).toMatch(/could not be fetched: gave up .* last: rate-limited/);
    expect(lifetime(job)).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.deadlineSeconds);
    // About one try per rate-limit window (60 s) until the deadline; a fixed count allowed four.
    expect(control.counters().byEndpoint.result).toBeGreaterThan(5);
    expect(await videoKeysOf(stack, job.jobId)).toEqual([]);
  });

  it('a 404 on the result after a successful submit stays EXPIRED at once', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'result', kind: 'http-error', status: 404, body: 'json' });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('EXPIRED');
    expect(control.counters().byEndpoint.result).toBe(1);
  });
});
