// Transient trouble on the way: retried where that is safe, so the job still completes — and where a
// retry could pay twice or store a broken file, the job stops with a clear error instead.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '#emulator/control';
import type { LocalStack } from '#local/stack';
import {
  describeJob,
  emulatorOf,
  readObject,
  sha256,
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

const SHORT_JOB = { prompt: 'a red fox running through snow', resolution: '1080p', duration: 6 } as const;

describe('transient failures on the GETs are absorbed', () => {
  const cases: { endpoint: Fault['endpoint']; faults: Fault[] }[] = [
    {
      endpoint: 'status',
      faults: [
        { endpoint: 'status', kind: 'http-error', status: 502, body: 'html' },
        { endpoint: 'status', kind: 'rate-limit' },
        { endpoint: 'status', kind: 'reset' },
      ],
    },
    {
      endpoint: 'result',
      faults: [
        { endpoint: 'result', kind: 'http-error', status: 500, body: 'json' },
        { endpoint: 'result', kind: 'rate-limit' },
        { endpoint: 'result', kind: 'reset' },
      ],
    },
    {
      endpoint: 'download',
      faults: [
        { endpoint: 'download', kind: 'reset' },
        { endpoint: 'download', kind: 'http-error', status: 503, body: 'empty' },
      ],
    },
  ];

  it.each(cases)(
    '5xx, 429 and dropped connections on $endpoint: still COMPLETED',
    async ({ endpoint, faults }) => {
      const control = emulatorOf(stack).control;
      control.injectFault(faults);

      const { job } = await stack.runJob(SHORT_JOB);

      expect(job.status, describeJob(job)).toBe('COMPLETED');
      const counters = control.counters();
      // Every fault was met (the request count shows the retries), and only one paid job exists.
      expect(counters.byEndpoint[endpoint]).toBeGreaterThan(faults.length);
      expect(counters.jobsCreated).toBe(1);
      const video = job.video;
      if (!video) throw new Error(`no video on ${describeJob(job)}`);
      expect(sha256(await readObject(stack, video.bucket, video.key))).toBe(video.sha256);
    },
  );
});

describe('submit', () => {
  it('retries a 5xx that proves no job was created, and creates exactly one Segmind job', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'submit', kind: 'http-error', status: 503, body: 'json' });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('COMPLETED');
    expect(job.submitAttempts).toBe(2);
    expect(control.counters().byEndpoint.submit).toBe(2);
    expect(control.counters().jobsCreated).toBe(1);
  });

  it('never POSTs again when the connection drops after Segmind accepted: FAILED, request unknown', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'submit', kind: 'reset-after-accept' });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('SUBMIT_OUTCOME_UNKNOWN');
    expect(job.errorMessage).toMatch(/request id is unknown/);
    expect(job.segmindRequestId).toBeUndefined();
    expect(control.counters().byEndpoint.submit).toBe(1);
    // Segmind did create (and will bill) that one job; the point is there is no second.
    expect(control.counters().jobsCreated).toBe(1);
  });
});

describe('the video copy', () => {
  it('fails the job and leaves no object when every download is cut short', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'download', kind: 'truncate', count: Infinity });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('FAILED');
    expect(job.errorCode).toBe('VideoTransferError');
    expect(job.video).toBeUndefined();
    expect(await videoKeysOf(stack, job.jobId)).toEqual([]);
    expect(control.counters().byEndpoint.download).toBeGreaterThan(1);
  });
});
