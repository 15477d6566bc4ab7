// Transient trouble on the way: retried where that is safe, so the job still completes — and where a
// retry could pay twice or store a broken file, the job stops with a clear error instead.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '#emulator/control';
import type { LocalStack } from '#local/stack';
import {
  allKeysUnder,
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

describe('retries that outlast the upstream (a deadline decides, not a count)', () => {
  /** Emulated seconds between two real instants of the record. */
  const emulatedSeconds = (fromIso: string | undefined, toIso: string | undefined): number =>
    ((Date.parse(toIso ?? '') - Date.parse(fromIso ?? '')) / 1000) * stack.timeScale;

  it('five 429s on the result of a COMPLETED job: each waited out until its reset, then COMPLETED', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault({ endpoint: 'result', kind: 'rate-limit', count: 5 });

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('COMPLETED');
    const counters = control.counters();
    expect(counters.byEndpoint.result).toBe(6);
    expect(counters.byStatusCode['429']).toBe(5);
    expect(counters.jobsCreated).toBe(1);
    // Each 429 announced the end of the current one-minute window: waiting for it puts the next try past
    // it, so five of them take four windows at least. A backoff of seconds would be done in about one.
    expect(emulatedSeconds(job.submittedAt, job.completedAt)).toBeGreaterThan(4 * 60);
    // The record said why it waited while it did; a completed job no longer does.
    expect(job.waiting).toBeUndefined();
    const video = job.video;
    if (!video) throw new Error(`no video on ${describeJob(job)}`);
    expect(sha256(await readObject(stack, video.bucket, video.key))).toBe(video.sha256);
  });

  it('a burst of 5xx, resets and unreadable answers on status and result: COMPLETED', async () => {
    const control = emulatorOf(stack).control;
    const burst = (endpoint: 'status' | 'result'): Fault[] => [
      { endpoint, kind: 'http-error', status: 502, body: 'html', count: 3 },
      { endpoint, kind: 'http-error', status: 503, body: 'json', count: 2 },
      { endpoint, kind: 'reset', count: 2 },
      { endpoint, kind: 'non-json', count: 1 },
    ];
    control.injectFault([...burst('status'), ...burst('result')]);

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('COMPLETED');
    const counters = control.counters();
    expect(counters.byEndpoint.status).toBeGreaterThan(8);
    expect(counters.byEndpoint.result).toBe(9);
    expect(counters.jobsCreated).toBe(1);
    expect(job.video?.key).toEqual(expect.any(String));
  });

  it('cut short, corrupted, cut short again, then a good download: COMPLETED with exactly one object', async () => {
    const control = emulatorOf(stack).control;
    control.injectFault([
      { endpoint: 'download', kind: 'truncate' },
      { endpoint: 'download', kind: 'corrupt' },
      { endpoint: 'download', kind: 'truncate', bytes: 1000 },
    ]);

    const { job } = await stack.runJob(SHORT_JOB);

    expect(job.status, describeJob(job)).toBe('COMPLETED');
    const counters = control.counters();
    expect(counters.byEndpoint.download).toBe(4);
    // Every download again starts from a fresh result (its URL may have changed).
    expect(counters.byEndpoint.result).toBe(4);
    const video = job.video;
    if (!video) throw new Error(`no video on ${describeJob(job)}`);
    expect(await videoKeysOf(stack, job.jobId)).toEqual([video.key]);
    expect(await allKeysUnder(stack, 'staging/')).toEqual([]);
    expect(sha256(await readObject(stack, video.bucket, video.key))).toBe(video.sha256);
  });
});
