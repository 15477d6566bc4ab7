// Submit's money rule: whatever fails and however often the Lambda is retried, Segmind gets at most one
// POST that may have created a job — and a job it accepted is never lost track of.

import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { SegmindKeyError } from '#commons/segmind-key';
import {
  InvalidVideoRequestError,
  JobCancelledError,
  JobStateError,
  SubmitOutcomeUnknownError,
} from '#domain/errors';
import { DEFAULT_POLLING_POLICY, nextPoll } from '#domain/polling-policy';
import { possibleCostUsd } from '#domain/segmind-price';
import {
  SUBMIT_OUTCOME_UNKNOWN_MESSAGE,
  type SubmitJobDeps,
  submitJob,
  type UnknownSubmit,
} from '#domain/submit-job';
import {
  SegmindBadRequestError,
  SegmindMalformedResponseError,
  SegmindTimeoutError,
  SegmindUnavailableError,
} from '#segmind/errors';
import {
  DEFAULT_REQUEST,
  FakeSegmind,
  fixedClock,
  InMemoryJobStore,
  pendingJob,
} from '#test/support/workflow-fakes';

const JOB = 'job-1';

let store: InMemoryJobStore;
let segmind: FakeSegmind;
let clock: ReturnType<typeof fixedClock>;
let deps: SubmitJobDeps;

beforeEach(() => {
  store = new InMemoryJobStore();
  segmind = new FakeSegmind();
  clock = fixedClock();
  deps = { store, segmind, clock, random: () => 0.5 };
  store.put(pendingJob(JOB));
});

const submit = (request: unknown = DEFAULT_REQUEST) => submitJob({ jobId: JOB, request }, deps);
const submitWith = (extra: Partial<SubmitJobDeps>) =>
  submitJob({ jobId: JOB, request: DEFAULT_REQUEST }, { ...deps, ...extra });

describe('submitJob: a first, successful submit', () => {
  it('POSTs the validated request once and returns the request with the first poll time', async () => {
    const result = await submit({
      prompt: 'A red fox in snow',
      duration: 8,
      resolution: '1080p',
      generateAudio: true,
    });

    expect(segmind.submits).toEqual([
      { prompt: 'A red fox in snow', duration: 8, resolution: '1080p', generate_audio: true },
    ]);
    const firstWait = nextPoll({
      job: { resolution: '1080p', duration: 8, generateAudio: true, hasImage: false },
      elapsedSeconds: 0,
      lastStatus: 'SUBMITTED',
      pollCount: 0,
      strikes: 0,
      random: 0.5,
    });
    expect(firstWait.kind).toBe('wait');
    expect(result).toEqual({
      requestId: 'req-1',
      statusUrl: 'https://api.segmind.test/v2/requests/req-1/status',
      responseUrl: 'https://api.segmind.test/v2/requests/req-1',
      submittedAt: clock.now().toISOString(),
      firstPollAt: clock.at(firstWait.kind === 'wait' ? firstWait.seconds : Number.NaN).toISOString(),
    });
  });

  it('stores the request id on the record before returning', async () => {
    let recordedBeforeReturn = false;
    const result = await submitJob(
      { jobId: JOB, request: DEFAULT_REQUEST },
      {
        ...deps,
        // The first poll time is computed last: by then the request id must be on the record.
        random: () => {
          recordedBeforeReturn = store.peek(JOB)?.segmindRequestId === 'req-1';
          return 0.5;
        },
      },
    );
    expect(result.requestId).toBe('req-1');
    expect(recordedBeforeReturn).toBe(true);
    expect(store.peek(JOB)).toMatchObject({ status: 'QUEUED', submitState: 'ACCEPTED', submitAttempts: 1 });
  });

  it('sends the image of an image-to-video job', async () => {
    await submit({ ...DEFAULT_REQUEST, imageUrl: 'https://bucket.example/upload.png?X-Amz-Signature=abc' });
    expect(segmind.submits[0]?.image).toBe('https://bucket.example/upload.png?X-Amz-Signature=abc');
  });
});

describe('submitJob: retries never pay twice', () => {
  it('a Lambda retried after a successful POST returns the same request without a second POST', async () => {
    const first = await submit();
    clock.advance(3);
    const retried = await submit();

    expect(segmind.submits).toHaveLength(1);
    expect(retried).toMatchObject({ requestId: first.requestId, submittedAt: first.submittedAt });
    // The first poll still aims at the expected completion, counted from the original submit.
    expect(Date.parse(retried.firstPollAt)).toBeCloseTo(Date.parse(first.firstPollAt), -2);
  });

  it('an attempt that died mid-POST (IN_FLIGHT on entry) stops with SubmitOutcomeUnknownError and no POST', async () => {
    store.put(pendingJob(JOB, { submitState: 'IN_FLIGHT', submitAttempts: 1 }));
    const error = await submit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitOutcomeUnknownError);
    expect((error as Error).message).toContain(SUBMIT_OUTCOME_UNKNOWN_MESSAGE);
    expect(segmind.submits).toHaveLength(0);
  });

  it('a submit already known to be ambiguous (UNKNOWN on entry) is not POSTed again', async () => {
    store.put(pendingJob(JOB, { submitState: 'UNKNOWN', submitAttempts: 1 }));
    await expect(submit()).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(segmind.submits).toHaveLength(0);
  });

  it('a POST that provably created nothing is recorded NOT_CREATED and rethrown as is; the next attempt POSTs once', async () => {
    const unavailable = new SegmindUnavailableError('Segmind answered 502', 'not-created', {
      httpStatus: 502,
    });
    segmind.submitScript.push(unavailable);

    const error = await submit().catch((e: unknown) => e);
    expect(error).toBe(unavailable);
    expect((error as Error).name).toBe('SegmindUnavailableError');
    expect(store.peek(JOB)).toMatchObject({
      status: 'PENDING',
      submitState: 'NOT_CREATED',
      errorCode: 'SegmindUnavailableError',
    });

    const result = await submit();
    expect(segmind.submits).toHaveLength(2);
    expect(result.requestId).toBe('req-2');
    expect(store.peek(JOB)).toMatchObject({ status: 'QUEUED', submitState: 'ACCEPTED', submitAttempts: 2 });
    expect(store.peek(JOB)?.errorCode).toBeUndefined();
  });

  it('a POST that may have created a job records UNKNOWN and throws SubmitOutcomeUnknownError', async () => {
    segmind.submitScript.push(new SegmindTimeoutError('no answer within 20000 ms', 'may-exist'));

    const error = await submit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitOutcomeUnknownError);
    expect((error as Error).message).toContain(SUBMIT_OUTCOME_UNKNOWN_MESSAGE);
    expect((error as Error).message).toContain('SegmindTimeoutError');
    expect(store.peek(JOB)).toMatchObject({ submitState: 'UNKNOWN', errorCode: 'SegmindTimeoutError' });

    await expect(submit()).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(segmind.submits).toHaveLength(1);
  });

  it('reports each unknown outcome once, with the estimated price of the job Segmind may have created', async () => {
    const reported: UnknownSubmit[] = [];
    segmind.submitScript.push(new SegmindUnavailableError('HTTP 502 (HTML page)', 'may-exist'));
    await expect(submitWith({ onOutcomeUnknown: (u) => reported.push(u) })).rejects.toBeInstanceOf(
      SubmitOutcomeUnknownError,
    );
    // A retry finds UNKNOWN on the record: already reported, not again.
    await expect(submitWith({ onOutcomeUnknown: (u) => reported.push(u) })).rejects.toBeInstanceOf(
      SubmitOutcomeUnknownError,
    );
    expect(reported).toEqual([
      {
        jobId: JOB,
        possibleCostUsd: possibleCostUsd(DEFAULT_REQUEST),
        reason: 'SegmindUnavailableError',
        resubmitting: false,
      },
    ]);
    expect(possibleCostUsd(DEFAULT_REQUEST)).toBe(0.8);
  });

  it('reports an attempt that died mid-POST (IN_FLIGHT) when the next attempt finds it', async () => {
    const reported: UnknownSubmit[] = [];
    store.put(pendingJob(JOB, { submitState: 'IN_FLIGHT', submitAttempts: 1 }));
    await expect(submitWith({ onOutcomeUnknown: (u) => reported.push(u) })).rejects.toBeInstanceOf(
      SubmitOutcomeUnknownError,
    );
    expect(reported).toMatchObject([{ jobId: JOB, reason: 'IN_FLIGHT', resubmitting: false }]);
  });

  it('opted in (LTX_RESUBMIT_UNKNOWN_OUTCOME): frees the claim and rethrows, so the retry POSTs again', async () => {
    const reported: UnknownSubmit[] = [];
    const reset = new SegmindUnavailableError(
      'network error ECONNRESET after the request was sent',
      'may-exist',
    );
    segmind.submitScript.push(reset);
    const optIn = { resubmitUnknown: true, onOutcomeUnknown: (u: UnknownSubmit) => reported.push(u) };

    await expect(submitWith(optIn)).rejects.toBe(reset);
    expect(store.peek(JOB)).toMatchObject({ status: 'PENDING', submitState: 'NOT_CREATED' });
    const result = await submitWith(optIn);

    expect(segmind.submits).toHaveLength(2);
    expect(result.requestId).toBe('req-2');
    expect(reported).toMatchObject([{ reason: 'SegmindUnavailableError', resubmitting: true }]);
  });

  it('an error nobody classified counts as "may exist"', async () => {
    segmind.submitScript.push(new TypeError('socket hang up'));
    await expect(submit()).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(store.peek(JOB)?.submitState).toBe('UNKNOWN');
  });

  it('an API key that could not be read proves nothing was sent: the submit may be retried', async () => {
    segmind.submitScript.push(
      new SegmindKeyError('Could not read the Segmind API key from secret s (ThrottlingException)'),
    );
    await expect(submit()).rejects.toBeInstanceOf(SegmindKeyError);
    expect(store.peek(JOB)?.submitState).toBe('NOT_CREATED');
    await submit();
    expect(segmind.submits).toHaveLength(2);
  });

  it("a request Segmind refused fails with Segmind's own error, recorded NOT_CREATED", async () => {
    segmind.submitScript.push(
      new SegmindBadRequestError('Prompt is Mandatory and must be string', { httpStatus: 400 }),
    );
    await expect(submit()).rejects.toBeInstanceOf(SegmindBadRequestError);
    expect(store.peek(JOB)?.submitState).toBe('NOT_CREATED');
  });

  it('when the accepted request id cannot be recorded, stops without another POST and names the id', async () => {
    store.failNext('recordSubmitted');
    const error = await submit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitOutcomeUnknownError);
    expect((error as Error).message).toContain('req-1');

    await expect(submit()).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(segmind.submits).toHaveLength(1);
  });

  it('a failed bookkeeping write after a refused POST still surfaces the original error, and blocks a re-POST', async () => {
    const unavailable = new SegmindUnavailableError('502', 'not-created');
    segmind.submitScript.push(unavailable);
    store.failNext('recordSubmitNotCreated');
    await expect(submit()).rejects.toBe(unavailable);
    // The claim stayed IN_FLIGHT: safe, at the price of ending the job.
    await expect(submit()).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(segmind.submits).toHaveLength(1);
  });

  it('property: at most one POST that may have created a job, whatever Segmind answers and however often it is retried', async () => {
    type Outcome = 'ok' | 'not-created' | 'may-exist' | 'record-fails';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Outcome>('ok', 'not-created', 'may-exist', 'record-fails'), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 8 }),
        async (outcomes, attempts) => {
          const jobs = new InMemoryJobStore();
          jobs.put(pendingJob(JOB));
          const api = new FakeSegmind();
          const mayHaveCreated: string[] = [];
          const returned = new Set<string>();
          for (const outcome of outcomes) {
            api.submitScript.push(() => {
              if (outcome === 'not-created') throw new SegmindUnavailableError('503', 'not-created');
              mayHaveCreated.push(outcome);
              if (outcome === 'may-exist') throw new SegmindMalformedResponseError('truncated', 'may-exist');
              if (outcome === 'record-fails') jobs.failNext('recordSubmitted');
              const id = `req-${mayHaveCreated.length}`;
              return { requestId: id, statusUrl: `${id}/status`, responseUrl: id };
            });
          }
          for (let attempt = 0; attempt < attempts; attempt += 1) {
            try {
              returned.add(
                (
                  await submitJob(
                    { jobId: JOB, request: DEFAULT_REQUEST },
                    { ...deps, store: jobs, segmind: api },
                  )
                ).requestId,
              );
            } catch {
              // Step Functions would retry (or not); either way the next attempt sees the record.
            }
          }
          expect(mayHaveCreated.length).toBeLessThanOrEqual(1);
          expect(returned.size).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('submitJob: refusals', () => {
  it('rejects an invalid request before anything else, naming the field', async () => {
    const error = await submit({ ...DEFAULT_REQUEST, duration: 7 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidVideoRequestError);
    expect((error as InvalidVideoRequestError).field).toBe('duration');
    expect((error as Error).message).toMatch(/duration/);
    expect((error as InvalidVideoRequestError).retryable).toBe(false);
    expect(segmind.submits).toHaveLength(0);
    expect(store.writes).toEqual([]);
  });

  it('names an unexpected field', async () => {
    await expect(submit({ ...DEFAULT_REQUEST, fps: 60 })).rejects.toThrow(/fps/);
  });

  it('checks the shape of a validated request, not the rules again: those ran where the request came in', async () => {
    // Defaults not applied: not what an entry point hands the workflow.
    await expect(submit({ prompt: 'ok' })).rejects.toThrow(/generateAudio/);
    // The edge refuses this prompt (a control character); the workflow does not repeat that rule.
    await submit({ ...DEFAULT_REQUEST, prompt: 'bell\u0007' });
    expect(segmind.submits).toHaveLength(1);
  });

  it('does not submit a job cancelled before it started', async () => {
    store.put(pendingJob(JOB, { status: 'CANCELLED' }));
    await expect(submit()).rejects.toBeInstanceOf(JobCancelledError);
    expect(segmind.submits).toHaveLength(0);
  });

  it('does not submit a job that ended otherwise', async () => {
    store.put(pendingJob(JOB, { status: 'FAILED' }));
    await expect(submit()).rejects.toBeInstanceOf(JobStateError);
    expect(segmind.submits).toHaveLength(0);
  });

  it('keeps the request id of a job cancelled during the POST and stops with JobCancelledError', async () => {
    segmind.submitScript.push(() => {
      store.put({ ...(store.peek(JOB) ?? pendingJob(JOB)), status: 'CANCELLED' });
      return { requestId: 'req-late', statusUrl: 'req-late/status', responseUrl: 'req-late' };
    });
    await expect(submit()).rejects.toBeInstanceOf(JobCancelledError);
    expect(store.peek(JOB)).toMatchObject({ status: 'CANCELLED', segmindRequestId: 'req-late' });
  });
});

describe('submitJob: an execution started without a record', () => {
  it('creates the PENDING record itself, then submits', async () => {
    const result = await submitJob(
      { jobId: 'batch-7-line-3', request: DEFAULT_REQUEST, batchId: 'batch-7' },
      deps,
    );
    expect(result.requestId).toBe('req-1');
    expect(store.peek('batch-7-line-3')).toMatchObject({
      source: 'batch',
      batchId: 'batch-7',
      owner: 'batch:batch-7',
      status: 'QUEUED',
      createdAt: clock.now().toISOString(),
      request: { ...DEFAULT_REQUEST },
    });
  });
});

describe('submitJob: the first poll time', () => {
  it('lies near the expected completion, later for longer, bigger jobs', async () => {
    const small = await submit({ prompt: 'x', resolution: '1080p', duration: 6, generateAudio: false });
    store.put(pendingJob('job-2'));
    const big = await submitJob(
      { jobId: 'job-2', request: { prompt: 'x', resolution: '4k', duration: 10, generateAudio: true } },
      deps,
    );
    const wait = (iso: string) => (Date.parse(iso) - clock.now().getTime()) / 1000;
    expect(wait(small.firstPollAt)).toBeGreaterThan(DEFAULT_POLLING_POLICY.minWaitSeconds);
    expect(wait(big.firstPollAt)).toBeGreaterThan(wait(small.firstPollAt));
  });
});
