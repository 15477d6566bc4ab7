// Submit and PollStatus inside the shared request budget: without a slot now they return when to come
// back (the state machine waits), never POST, never fail for lack of budget — and a job waiting for it
// says so on its record.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  fetchWithinBudget,
  isBudgetWait,
  pollWithinBudget,
  RATE_BUDGET_REASON,
  submitWithinBudget,
  WAITING_FOR_BUDGET_STATUS,
} from '#domain/budgeted-steps';
import { JobCancelledError } from '#domain/errors';
import {
  type BudgetDecision,
  type BudgetedRequest,
  deferral,
  type RequestBudget,
  waitUntil,
} from '#domain/request-budget';
import type { SubmittedJob } from '#domain/video-job';
import { SegmindRateLimitedError } from '#segmind/errors';
import {
  DEFAULT_REQUEST,
  FakeSegmind,
  fixedClock,
  InMemoryJobStore,
  pendingJob,
} from '#test/support/workflow-fakes';

const JOB = 'job-1';

/** Answers each acquire with the next scripted decision (a granted slot "now" when the script is empty). */
class ScriptedBudget implements RequestBudget {
  readonly calls: { request: BudgetedRequest; ticket?: number }[] = [];
  readonly script: BudgetDecision[] = [];
  constructor(private readonly now: () => Date) {}
  async acquire(request: BudgetedRequest, _now: Date, ticket?: number): Promise<BudgetDecision> {
    this.calls.push({ request, ...(ticket === undefined ? {} : { ticket }) });
    return this.script.shift() ?? { kind: 'granted', slotAt: this.now() };
  }
}

let store: InMemoryJobStore;
let segmind: FakeSegmind;
let clock: ReturnType<typeof fixedClock>;
let budget: ScriptedBudget;
const inSeconds = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);

beforeEach(() => {
  store = new InMemoryJobStore();
  segmind = new FakeSegmind();
  clock = fixedClock();
  budget = new ScriptedBudget(() => clock.now());
  store.put(pendingJob(JOB));
});

const deps = () => ({ store, segmind, clock, budget, random: () => 0.5 });

describe('submitWithinBudget', () => {
  it('submits at once when the budget has a slot now', async () => {
    const result = await submitWithinBudget({ jobId: JOB, request: DEFAULT_REQUEST }, deps());
    expect(isBudgetWait(result)).toBe(false);
    expect(segmind.submits).toHaveLength(1);
    expect(budget.calls).toEqual([{ request: 'submit' }]);
    expect(store.peek(JOB)?.rateBudgetWait).toBeUndefined();
  });

  it('yields without a POST when deferred, shows the place on the record, and keeps its ticket', async () => {
    budget.script.push({ kind: 'deferred', retryAt: inSeconds(12), ticket: 7, place: 3 });
    const waited = await submitWithinBudget({ jobId: JOB, request: DEFAULT_REQUEST }, deps());

    expect(waited).toEqual({ budget: { retryAt: inSeconds(12).toISOString(), ticket: 7, place: 3 } });
    expect(segmind.submits).toEqual([]);
    const record = store.peek(JOB);
    expect(record).toMatchObject({
      status: 'PENDING',
      rateBudgetWait: { place: 3, until: inSeconds(12).toISOString() },
    });
    // No claim was taken while waiting: a cancel stays simple, and the next look may still POST.
    expect(record?.submitState).toBeUndefined();

    clock.advance(12);
    if (!isBudgetWait(waited)) throw new Error('expected a wait');
    const submitted = await submitWithinBudget(
      { jobId: JOB, request: DEFAULT_REQUEST, budget: waited.budget },
      deps(),
    );
    expect(isBudgetWait(submitted)).toBe(false);
    expect(budget.calls[1]).toEqual({ request: 'submit', ticket: 7 });
    expect(segmind.submits).toHaveLength(1);
    expect(store.peek(JOB)).toMatchObject({ status: 'QUEUED' });
    expect(store.peek(JOB)?.rateBudgetWait).toBeUndefined();
  });

  it('waits for a reserved slot ahead, then uses it without asking the budget again', async () => {
    budget.script.push({ kind: 'granted', slotAt: inSeconds(1.5) });
    const waited = await submitWithinBudget({ jobId: JOB, request: DEFAULT_REQUEST }, deps());
    if (!isBudgetWait(waited)) throw new Error('expected a wait for the reserved slot');
    // At time scale 1 (AWS) the Wait ends on the next whole second: it never wakes before the slot.
    expect(waited.budget).toEqual({
      retryAt: inSeconds(2).toISOString(),
      reservedAt: inSeconds(1.5).toISOString(),
    });
    expect(segmind.submits).toEqual([]);

    clock.advance(2);
    await submitWithinBudget({ jobId: JOB, request: DEFAULT_REQUEST, budget: waited.budget }, deps());
    expect(budget.calls).toHaveLength(1);
    expect(segmind.submits).toHaveLength(1);
  });

  it('stops a job cancelled while it waited, without a POST', async () => {
    store.put(pendingJob(JOB, { status: 'CANCELLED' }));
    budget.script.push({ kind: 'deferred', retryAt: inSeconds(12), ticket: 1, place: 1 });
    await expect(submitWithinBudget({ jobId: JOB, request: DEFAULT_REQUEST }, deps())).rejects.toThrow(
      JobCancelledError,
    );
    expect(segmind.submits).toEqual([]);
  });

  it('turns a 429 from Segmind (traffic the budget does not see) into a wait for the reset, then submits', async () => {
    const resetAt = inSeconds(40);
    segmind.submitScript.push(new SegmindRateLimitedError('HTTP 429', resetAt));
    const waited = await submitWithinBudget({ jobId: JOB, request: DEFAULT_REQUEST }, deps());
    expect(waited).toEqual({ budget: { retryAt: resetAt.toISOString(), place: 1 } });
    expect(store.peek(JOB)).toMatchObject({ status: 'PENDING', submitState: 'NOT_CREATED' });

    clock.advance(40);
    if (!isBudgetWait(waited)) throw new Error('expected a wait');
    const submitted = await submitWithinBudget(
      { jobId: JOB, request: DEFAULT_REQUEST, budget: waited.budget },
      deps(),
    );
    expect(isBudgetWait(submitted)).toBe(false);
    expect(segmind.submits).toHaveLength(2);
    expect(store.peek(JOB)).toMatchObject({ status: 'QUEUED', submitState: 'ACCEPTED' });
  });

  it('lets a job without a record yet (a batch child) wait too; the submit creates the record later', async () => {
    store.items.delete(JOB);
    budget.script.push({ kind: 'deferred', retryAt: inSeconds(5), ticket: 2, place: 2 });
    const waited = await submitWithinBudget(
      { jobId: JOB, request: DEFAULT_REQUEST, source: 'batch' },
      deps(),
    );
    expect(isBudgetWait(waited)).toBe(true);
    clock.advance(5);
    await submitWithinBudget({ jobId: JOB, request: DEFAULT_REQUEST, source: 'batch' }, deps());
    expect(store.peek(JOB)).toMatchObject({ status: 'QUEUED', source: 'batch' });
  });
});

describe('pollWithinBudget', () => {
  const SEGMIND: SubmittedJob = {
    requestId: 'req-1',
    statusUrl: 'https://api.segmind.test/v2/requests/req-1/status',
    responseUrl: 'https://api.segmind.test/v2/requests/req-1',
    submittedAt: '2030-01-01T00:00:00.000Z',
  };
  const previous = {
    status: 'QUEUED',
    pollCount: 2,
    nextPollAt: '2030-01-01T00:00:10.000Z',
    strikes: 0,
    lastSegmindStatus: 'QUEUED',
  };

  it('reserves the next slot when it lies ahead and waits for it: no request, the poll count unchanged', async () => {
    store.put(pendingJob(JOB, { status: 'QUEUED', segmindRequestId: 'req-1' }));
    budget.script.push({ kind: 'granted', slotAt: inSeconds(3.2) });
    const waiting = await pollWithinBudget(
      { jobId: JOB, request: DEFAULT_REQUEST, segmind: SEGMIND, poll: previous },
      deps(),
    );
    expect(waiting).toEqual({
      status: WAITING_FOR_BUDGET_STATUS,
      pollCount: 2,
      nextPollAt: inSeconds(4).toISOString(),
      strikes: 0,
      lastSegmindStatus: 'QUEUED',
      budget: { reservedAt: inSeconds(3.2).toISOString() },
    });
    expect(segmind.statusCalls).toEqual([]);

    clock.advance(4);
    segmind.statusScript.push({ requestId: 'req-1', status: 'PROCESSING', metrics: {} });
    const polled = await pollWithinBudget(
      { jobId: JOB, request: DEFAULT_REQUEST, segmind: SEGMIND, poll: waiting },
      deps(),
    );
    expect(budget.calls).toEqual([{ request: 'status' }]);
    expect(segmind.statusCalls).toHaveLength(1);
    expect(polled).toMatchObject({ status: 'PROCESSING', pollCount: 3 });
    expect(polled.budget).toBeUndefined();
  });
});

describe('fetchWithinBudget', () => {
  const SEGMIND = {
    requestId: 'req-1',
    responseUrl: 'https://api.segmind.test/v2/requests/req-1',
    submittedAt: '2030-01-01T00:00:00.000Z',
  };

  it('waits for a reserved slot through the fetch retry loop, keeping the attempt count, then fetches once', async () => {
    budget.script.push({ kind: 'granted', slotAt: inSeconds(0.4) });
    const previous = {
      retryAt: '2030-01-01T00:00:09.000Z',
      reason: 'rate-limited',
      attempt: 2,
      detail: 'HTTP 429',
    };
    const waiting = await fetchWithinBudget({ jobId: JOB, segmind: SEGMIND, previous }, deps());
    expect(waiting).toEqual({
      retryAt: inSeconds(1).toISOString(),
      reason: RATE_BUDGET_REASON,
      attempt: 2,
      detail: 'waiting for rate budget',
      reservedAt: inSeconds(0.4).toISOString(),
    });
    expect(segmind.resultCalls).toEqual([]);

    clock.advance(1);
    const fetched = await fetchWithinBudget({ jobId: JOB, segmind: SEGMIND, previous: waiting }, deps());
    expect(fetched).toMatchObject({ videoUrl: expect.any(String) });
    expect(budget.calls).toEqual([{ request: 'result' }]);
    expect(segmind.resultCalls).toHaveLength(1);
  });
});

describe('request budget arithmetic', () => {
  const settings = { requestsPerMinute: 10, timeScale: 60, submitReserve: 2, latencyMarginMs: 0 };

  it('wakes a waiting line one slot apart, from when the queue is back within the reserve', () => {
    const state = { nextSlotMs: 10_000, ticketsIssued: 9, lastServedTicket: 4 };
    // One slot is 100 real ms at 10 RPM and time scale 60; the reserve opens at 10 000 - 200.
    expect(deferral(state, 5, 0, settings)).toMatchObject({ place: 1, retryAt: new Date(9_800) });
    expect(deferral(state, 8, 0, settings)).toMatchObject({ place: 4, retryAt: new Date(10_100) });
    // A ticket already passed (its holder came back late) goes first.
    expect(deferral(state, 3, 0, settings)).toMatchObject({ place: 1 });
  });

  it('rounds a Wait up to the whole second on AWS (which truncates), and keeps milliseconds locally', () => {
    const at = new Date('2030-01-01T00:00:01.250Z');
    expect(waitUntil(at, 1)).toBe('2030-01-01T00:00:02.000Z');
    expect(waitUntil(at, 60)).toBe('2030-01-01T00:00:01.250Z');
  });
});
