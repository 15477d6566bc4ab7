// PollStatus: what the workflow does after each status request, and how little it writes to the record.

import { beforeEach, describe, expect, it } from 'vitest';
import { JobDeadlineExceededError } from '#domain/errors';
import { type PollJobDeps, type PollJobInput, pollJob } from '#domain/poll-job';
import { DEFAULT_POLLING_POLICY } from '#domain/polling-policy';
import type { PollState, SubmittedJob } from '#domain/video-job';
import {
  SegmindMalformedResponseError,
  SegmindNotFoundError,
  SegmindRateLimitedError,
  SegmindTimeoutError,
  SegmindUnavailableError,
} from '#segmind/errors';
import type { StatusReport } from '#segmind/types';
import {
  DEFAULT_REQUEST,
  FakeSegmind,
  fixedClock,
  InMemoryJobStore,
  pendingJob,
} from '#test/support/workflow-fakes';

const JOB = 'job-1';
const SUBMITTED_AT = '2030-01-01T00:00:00.000Z';
const SEGMIND: SubmittedJob = {
  requestId: 'req-1',
  statusUrl: 'https://api.segmind.test/v2/requests/req-1/status',
  responseUrl: 'https://api.segmind.test/v2/requests/req-1',
  submittedAt: SUBMITTED_AT,
};

let store: InMemoryJobStore;
let segmind: FakeSegmind;
let clock: ReturnType<typeof fixedClock>;
let deps: PollJobDeps;

beforeEach(() => {
  store = new InMemoryJobStore();
  segmind = new FakeSegmind();
  clock = fixedClock('2030-01-01T00:00:40.000Z');
  deps = { store, segmind, clock, random: () => 0.5 };
  store.put(
    pendingJob(JOB, {
      status: 'QUEUED',
      submitState: 'ACCEPTED',
      segmindRequestId: 'req-1',
      submittedAt: SUBMITTED_AT,
      lastSegmindStatus: 'QUEUED',
    }),
  );
});

const status = (value: string, extra: Partial<StatusReport> = {}): StatusReport => ({
  requestId: 'req-1',
  status: value,
  metrics: {},
  ...extra,
});

const poll = (previous?: PollState): Promise<PollState> => {
  const input: PollJobInput = { jobId: JOB, request: DEFAULT_REQUEST, segmind: SEGMIND };
  return pollJob(previous === undefined ? input : { ...input, poll: previous }, deps);
};

const secondsUntil = (iso: string): number => (Date.parse(iso) - clock.now().getTime()) / 1000;

describe('pollJob: a job still running', () => {
  it('polls the status URL Segmind gave and schedules the next poll, writing nothing while QUEUED', async () => {
    segmind.statusScript.push(status('QUEUED'));
    const state = await poll();

    expect(segmind.statusCalls).toEqual([SEGMIND.statusUrl]);
    expect(state).toMatchObject({ status: 'QUEUED', pollCount: 1, strikes: 0, lastSegmindStatus: 'QUEUED' });
    expect(secondsUntil(state.nextPollAt)).toBeGreaterThanOrEqual(DEFAULT_POLLING_POLICY.minWaitSeconds);
    expect(store.writes).toEqual([]);
  });

  it('records QUEUED → PROCESSING once, not on every poll', async () => {
    segmind.statusScript.push(status('PROCESSING'), status('PROCESSING'), status('PROCESSING'));
    let state = await poll({ status: 'QUEUED', pollCount: 1, nextPollAt: SUBMITTED_AT, strikes: 0 });
    state = await poll(state);
    state = await poll(state);

    expect(state).toMatchObject({ status: 'PROCESSING', pollCount: 4 });
    expect(store.writes).toEqual([`recordProgress:${JOB}`]);
    expect(store.peek(JOB)).toMatchObject({
      status: 'PROCESSING',
      lastSegmindStatus: 'PROCESSING',
      pollCount: 2,
      processingAt: clock.now().toISOString(),
    });
  });

  it('keeps waiting on a status Segmind never documented, counting it as a strike', async () => {
    segmind.statusScript.push(status('WARMING_UP'), status('WARMING_UP'));
    const first = await poll();
    const second = await poll(first);

    expect(first).toMatchObject({ status: 'WARMING_UP', strikes: 1 });
    expect(second).toMatchObject({ status: 'WARMING_UP', strikes: 2, pollCount: 2 });
    expect(store.peek(JOB)).toMatchObject({ status: 'QUEUED', lastSegmindStatus: 'WARMING_UP' });
    expect(store.writes).toHaveLength(1);
  });

  it('recognises a documented status whatever its case', async () => {
    segmind.statusScript.push(status(' completed '));
    expect((await poll()).status).toBe('COMPLETED');
  });

  it('keeps polling when the record cannot be written, and tries the write again next time', async () => {
    segmind.statusScript.push(status('PROCESSING'), status('PROCESSING'));
    store.failNext('recordProgress');
    const first = await poll();
    expect(first).toMatchObject({ status: 'PROCESSING', lastSegmindStatus: 'QUEUED' });
    await poll(first);
    expect(store.peek(JOB)?.status).toBe('PROCESSING');
  });
});

describe('pollJob: terminal answers', () => {
  it('returns COMPLETED for the workflow to fetch the result', async () => {
    segmind.statusScript.push(status('COMPLETED', { metrics: { inferenceTime: 13.06 } }));
    const state = await poll({ status: 'PROCESSING', pollCount: 3, nextPollAt: SUBMITTED_AT, strikes: 0 });
    expect(state).toMatchObject({ status: 'COMPLETED', pollCount: 4 });
    expect(store.writes).toEqual([]);
  });

  it("returns FAILED with Segmind's detail instead of throwing", async () => {
    segmind.statusScript.push(status('FAILED', { error: 'Content blocked by safety filter' }));
    expect(await poll()).toMatchObject({ status: 'FAILED', error: 'Content blocked by safety filter' });
  });

  it('gives a FAILED without detail a message anyway', async () => {
    segmind.statusScript.push(status('FAILED'));
    expect((await poll()).error).toMatch(/without any detail/);
  });
});

describe('pollJob: throttling and failures', () => {
  it('treats a 429 as a reason to wait past the reset, not as an error', async () => {
    const resetAt = new Date(clock.now().getTime() + 25_000);
    segmind.statusScript.push(new SegmindRateLimitedError('429', resetAt));
    const state = await poll({
      status: 'PROCESSING',
      pollCount: 2,
      nextPollAt: SUBMITTED_AT,
      strikes: 0,
      lastSegmindStatus: 'PROCESSING',
    });

    expect(state).toMatchObject({
      status: 'THROTTLED',
      pollCount: 3,
      strikes: 1,
      lastSegmindStatus: 'PROCESSING',
    });
    expect(Date.parse(state.nextPollAt)).toBeGreaterThanOrEqual(resetAt.getTime());
    expect(secondsUntil(state.nextPollAt)).toBeLessThanOrEqual(DEFAULT_POLLING_POLICY.throttleMaxWaitSeconds);
  });

  it('backs off without a reset time, and does not rewrite an unchanged status after the throttle', async () => {
    segmind.statusScript.push(new SegmindRateLimitedError('429', undefined), status('QUEUED'));
    const throttled = await poll();
    expect(throttled).toMatchObject({ status: 'THROTTLED', strikes: 1 });
    expect(store.peek(JOB)?.waiting).toMatchObject({ reason: 'rate-limited', until: throttled.nextPollAt });
    const after = await poll(throttled);
    expect(after).toMatchObject({ status: 'QUEUED', strikes: 0 });
    // Only the record's `waiting` was written, then cleared: the status never changed.
    expect(store.writes).toEqual(['recordWaiting:job-1', 'recordWaiting:job-1']);
    expect(store.peek(JOB)?.waiting).toBeUndefined();
  });

  it.each([
    ['a 5xx', new SegmindUnavailableError('502 Bad Gateway', 'not-created')],
    ['a timeout', new SegmindTimeoutError('no answer', 'not-created')],
    ['an unreadable answer', new SegmindMalformedResponseError('not JSON', 'not-created')],
  ])('turns %s into a later poll with backoff, however many come in a row', async (_what, error) => {
    let state: PollState = {
      status: 'PROCESSING',
      pollCount: 2,
      nextPollAt: SUBMITTED_AT,
      strikes: 0,
      lastSegmindStatus: 'PROCESSING',
    };
    const waits: number[] = [];
    for (let n = 1; n <= 6; n += 1) {
      segmind.statusScript.push(error);
      state = await poll(state);
      expect(state).toMatchObject({
        status: 'UNAVAILABLE',
        strikes: n,
        lastSegmindStatus: 'PROCESSING',
        retryReason: 'upstream-unavailable',
        retryDetail: error.message,
      });
      expect(store.peek(JOB)?.waiting).toEqual({
        reason: 'upstream-unavailable',
        until: state.nextPollAt,
        detail: error.message,
      });
      waits.push(secondsUntil(state.nextPollAt));
      clock.advance(secondsUntil(state.nextPollAt));
    }
    // Equal jitter at draw 0.5, capped at 30 s: three quarters of 2, 4, 8, 16, 30, 30.
    expect(waits).toEqual([1.5, 3, 6, 12, 22.5, 22.5]);
    segmind.statusScript.push(status('COMPLETED'));
    expect(await poll(state)).toMatchObject({ status: 'COMPLETED', strikes: 0 });
    // Only the record's `waiting` was written for the failed polls, and cleared once a poll got through.
    expect(store.writes.every((write) => write === 'recordWaiting:job-1')).toBe(true);
    expect(store.peek(JOB)?.waiting).toBeUndefined();
  });

  it('rethrows an expired request (404) unchanged: the job ends EXPIRED', async () => {
    const error = new SegmindNotFoundError('Request req-1 not found');
    segmind.statusScript.push(error);
    await expect(poll()).rejects.toBe(error);
  });

  it('gives up at the deadline with JobDeadlineExceededError', async () => {
    clock.advance(DEFAULT_POLLING_POLICY.deadlineSeconds);
    segmind.statusScript.push(status('PROCESSING'));
    const error = await poll({
      status: 'PROCESSING',
      pollCount: 300,
      nextPollAt: SUBMITTED_AT,
      strikes: 0,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobDeadlineExceededError);
    expect((error as Error).message).toMatch(/deadline/);
    expect((error as Error).message).toContain(JOB);
  });

  it('still takes a COMPLETED that arrives at the deadline', async () => {
    clock.advance(DEFAULT_POLLING_POLICY.deadlineSeconds);
    segmind.statusScript.push(status('COMPLETED'));
    expect((await poll()).status).toBe('COMPLETED');
  });

  it('never schedules a poll past the deadline', async () => {
    clock.advance(DEFAULT_POLLING_POLICY.deadlineSeconds - 40 - 0.5);
    segmind.statusScript.push(new SegmindRateLimitedError('429', undefined));
    const state = await poll({ status: 'QUEUED', pollCount: 100, nextPollAt: SUBMITTED_AT, strikes: 5 });
    const deadline = Date.parse(SUBMITTED_AT) + DEFAULT_POLLING_POLICY.deadlineSeconds * 1000;
    expect(Date.parse(state.nextPollAt)).toBeLessThanOrEqual(deadline);
  });
});
