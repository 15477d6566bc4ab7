// Jobs through the REST API, over real HTTP on the local stack (synthesized state machine, dynalite,
// s3rver, the Segmind emulator 100× faster): create, poll, download; idempotency; listing; cancelling; and
// what a caller sees when something breaks on our side.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VideoWorkflow } from '#domain/start-job';
import { VIDEO_JOB_STATES } from '#infra/constructs/video-job-workflow';
import {
  type ApiClient,
  type ApiStack,
  errorOf,
  jobIdOf,
  SMALL_JOB,
  startApiStack,
  startCounters,
} from '#test/api-e2e/support/api-stack';
import { emulatorOf, videoKeysOf } from '#test/workflow/support/local-stack';

let env: ApiStack;
let api: ApiClient;

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  api = env.client;
});
afterAll(() => env?.stop());

beforeEach(async () => {
  // Each test counts Segmind jobs from zero; nothing of an earlier test may still be running.
  await env.stack.workflow.idle();
  emulatorOf(env.stack).control.reset();
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const request = (prompt: string) => ({ prompt, ...SMALL_JOB });

/** Jobs stay QUEUED at the emulator for 10 emulated minutes (6 s here) unless the clock is advanced. */
const holdJobsInQueue = (): void =>
  emulatorOf(env.stack).control.configure({
    latency: {
      queueMedianSeconds: 600,
      queueSigma: 0,
      coldWorkerProbability: 0,
      totalRangeSeconds: [0, 1e9],
    },
  });

/** Waits until the record shows Segmind has the job (it has a request id to finish later). */
const waitUntilSubmitted = async (jobId: string): Promise<string> => {
  const view = await api.waitForStatus(jobId, ['QUEUED', 'PROCESSING']);
  expect(view.segmindRequestId).toEqual(expect.any(String));
  return String(view.segmindRequestId);
};

const emulatorJob = (segmindRequestId: string) =>
  emulatorOf(env.stack)
    .control.jobs()
    .find((job) => job.requestId === segmindRequestId);

describe('a job through the API', () => {
  it('is created (202), polled until COMPLETED, and its presigned URL downloads the stored bytes', async () => {
    const created = await api.create(request('a red fox running through snow'));
    expect(created.status, created.text).toBe(202);
    const jobId = jobIdOf(created);
    expect(created.body).toEqual({ jobId, status: 'PENDING', links: { self: `/v1/videos/${jobId}` } });
    expect(created.headers.get('location')).toBe(`/v1/videos/${jobId}`);

    const view = await api.waitForStatus(jobId, ['COMPLETED', 'FAILED', 'EXPIRED', 'TIMED_OUT', 'CANCELLED']);
    expect(view.status, JSON.stringify(view)).toBe('COMPLETED');
    const video = view.video as { bytes: number; sha256: string; contentType: string };
    const link = (view.links as { video?: { url: string; expiresAt: string } }).video;
    if (link === undefined) throw new Error(`no download link on ${JSON.stringify(view)}`);
    expect(link.url.startsWith(`${env.stack.s3.endpoint}/`)).toBe(true);
    expect(Date.parse(link.expiresAt)).toBeGreaterThan(Date.now());

    const download = await fetch(link.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/mp4');
    expect(download.headers.get('content-disposition')).toContain(`${jobId}.mp4`);
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect(bytes.length).toBe(video.bytes);
    expect(sha256(bytes)).toBe(video.sha256);
    expect(emulatorOf(env.stack).control.counters().jobsCreated).toBe(1);
  });

  it('with an Idempotency-Key: repeats (even concurrent ones) return the same job, and Segmind gets one job', async () => {
    const headers = { 'Idempotency-Key': 'fox-idempotent-1' };
    const [first, second] = await Promise.all([
      api.create(request('the same fox'), headers),
      api.create(request('the same fox'), headers),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    const jobId = jobIdOf(first);
    expect(jobIdOf(second)).toBe(jobId);
    expect([first, second].filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(1);

    await api.waitForStatus(jobId, ['COMPLETED']);
    const later = await api.create(request('the same fox'), headers);
    expect(later.status).toBe(202);
    expect(later.body).toMatchObject({ jobId, status: 'COMPLETED' });
    expect(later.headers.get('idempotent-replayed')).toBe('true');

    const counters = emulatorOf(env.stack).control.counters();
    expect(counters.jobsCreated).toBe(1);
    expect(counters.byEndpoint.submit).toBe(1);
    expect(env.stack.workflow.list().filter((execution) => execution.name === jobId)).toHaveLength(1);
  });

  it('with an Idempotency-Key reused for a different body: 422 saying so, and nothing new starts', async () => {
    const headers = { 'Idempotency-Key': 'fox-idempotent-2' };
    const first = await api.create(request('a fox'), headers);
    expect(first.status).toBe(202);
    await api.waitForStatus(jobIdOf(first), ['COMPLETED']);
    const before = startCounters(env.stack);

    const reused = await api.create(request('a different fox'), headers);
    expect(reused.status).toBe(422);
    const error = errorOf(reused);
    expect(error.code).toBe('IdempotencyKeyReused');
    expect(error.message).toContain(`already used for job ${jobIdOf(first)} with a different request body`);
    expect(error.fields?.map((f) => f.field)).toEqual(['Idempotency-Key']);
    // Only the conditional put that found the key taken: no execution, no Segmind job, the job unchanged.
    const { recordsPut: _, ...started } = startCounters(env.stack);
    const { recordsPut: __, ...startedBefore } = before;
    expect(started).toEqual(startedBefore);
    expect((await api.get(jobIdOf(first))).body).toMatchObject({
      status: 'COMPLETED',
      request: request('a fox'),
    });
  });
});

describe('GET /videos', () => {
  it('pages newest first with limit and cursor, without duplicates, and filters by status', async () => {
    emulatorOf(env.stack).control.addFailureRule({ promptContains: 'blocked', kind: 'content-blocked' });
    const ids: string[] = [];
    for (const prompt of ['list one', 'list two', 'list three blocked', 'list four', 'list five']) {
      ids.push(jobIdOf(await api.create(request(prompt))));
    }
    await env.stack.workflow.idle();

    const seen: { jobId: string; createdAt: string; status: string }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.list({ limit: '2', ...(cursor === undefined ? {} : { cursor }) });
      expect(page.status, page.text).toBe(200);
      const items = page.body.items as { jobId: string; createdAt: string; status: string }[];
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...items);
      cursor = typeof page.body.nextCursor === 'string' ? page.body.nextCursor : undefined;
      pages += 1;
    } while (cursor !== undefined && pages < 100);

    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen.map((j) => j.jobId)).size).toBe(seen.length);
    const createdAt = seen.map((j) => j.createdAt);
    expect(createdAt).toEqual([...createdAt].sort().reverse());
    // This test's jobs, in the order the pages gave them: the newest first.
    expect(seen.map((j) => j.jobId).filter((id) => ids.includes(id))).toEqual([...ids].reverse());

    const failed = await api.list({ status: 'FAILED' });
    const failedIds = (failed.body.items as { jobId: string; status: string }[]).map((j) => j.jobId);
    expect(failedIds.filter((id) => ids.includes(id))).toEqual([ids[2]]);
    const completed = await api.list({ status: 'COMPLETED', limit: '100' });
    const items = completed.body.items as { jobId: string; status: string }[];
    expect(items.every((j) => j.status === 'COMPLETED')).toBe(true);
    expect(items.map((j) => j.jobId).filter((id) => ids.includes(id))).toEqual(
      [ids[0], ids[1], ids[3], ids[4]].reverse(),
    );
  });
});

describe('DELETE /videos/{jobId}', () => {
  it('cancels a job mid-flight: 200 CANCELLED, execution stopped, and nothing changes when Segmind finishes', async () => {
    holdJobsInQueue();
    const jobId = jobIdOf(await api.create(request('a fox to cancel')));
    const segmindRequestId = await waitUntilSubmitted(jobId);

    const cancelled = await api.cancel(jobId);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ jobId, status: 'CANCELLED', cancelledAt: expect.any(String) });
    const execution = env.stack.workflow.describe(jobId);
    expect(execution?.status).toBe('ABORTED');
    expect((await execution?.outcome)?.status).toBe('ABORTED');
    // The stopped execution publishes nothing: the cancel announces the job's end, as RecordFailure would.
    const endEvents = () =>
      env.stack.events.events().filter((e) => (e.detail as { jobId?: string }).jobId === jobId);
    expect(endEvents()).toMatchObject([
      {
        source: 'ltx-video-pipeline',
        'detail-type': 'Video Generation Failed',
        detail: { jobId, outcome: { status: 'CANCELLED', errorCode: 'JobCancelledError' } },
      },
    ]);

    // Segmind cannot cancel: the emulator finishes the job anyway.
    emulatorOf(env.stack).control.advanceClock(700);
    expect(emulatorJob(segmindRequestId)?.status).toBe('COMPLETED');
    await env.stack.workflow.idle();

    const after = await api.get(jobId);
    expect(after.body).toMatchObject({ status: 'CANCELLED', updatedAt: cancelled.body.updatedAt });
    expect(after.body.video).toBeUndefined();
    expect(await videoKeysOf(env.stack, jobId)).toEqual([]);
    expect(emulatorOf(env.stack).control.counters().byEndpoint.result).toBe(0);

    const again = await api.cancel(jobId);
    expect(again.status).toBe(409);
    expect(endEvents()).toHaveLength(1);
    expect(errorOf(again)).toMatchObject({
      code: 'JobAlreadyEnded',
      message: expect.stringContaining('CANCELLED'),
    });
  });

  it('discards a late Segmind result when the execution could not be stopped: no object, still CANCELLED', async () => {
    holdJobsInQueue();
    // A StopExecution that fails (throttled, say): the record is cancelled, the execution runs on.
    const unstoppable: VideoWorkflow = {
      start: (input) => env.stack.workflow.start(input),
      stop: async () => {
        throw new Error('StopExecution failed');
      },
    };
    const apiWithoutStop = await env.apiWith(unstoppable);
    const jobId = jobIdOf(await apiWithoutStop.create(request('a fox whose result comes late')));
    await waitUntilSubmitted(jobId);

    const cancelled = await apiWithoutStop.cancel(jobId);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(env.stack.workflow.describe(jobId)?.status).toBe('RUNNING');

    emulatorOf(env.stack).control.advanceClock(700);
    const outcome = await env.stack.workflow.describe(jobId)?.outcome;
    // The execution did get the finished video's result and tried to store it: store-video refused.
    expect(outcome?.stats.statesEntered[VIDEO_JOB_STATES.storeVideo]).toBeGreaterThanOrEqual(1);
    expect(outcome?.stats.statesEntered[VIDEO_JOB_STATES.recordCompletion]).toBeUndefined();
    expect(emulatorOf(env.stack).control.counters().byEndpoint.result).toBeGreaterThanOrEqual(1);

    const after = await api.get(jobId);
    expect(after.body).toMatchObject({ status: 'CANCELLED', error: { code: 'JobCancelledError' } });
    expect(after.body.video).toBeUndefined();
    expect(after.body.completedAt).toBeUndefined();
    expect(await videoKeysOf(env.stack, jobId)).toEqual([]);
  });

  it('answers 409 for a job that already ended, and leaves it as it was', async () => {
    const jobId = jobIdOf(await api.create(request('a fox that finishes')));
    const done = await api.waitForStatus(jobId, ['COMPLETED']);

    const refused = await api.cancel(jobId);
    expect(refused.status).toBe(409);
    expect(errorOf(refused)).toMatchObject({
      code: 'JobAlreadyEnded',
      message: `job ${jobId} already ended as COMPLETED; only a job that is still running can be cancelled`,
    });
    expect((await api.get(jobId)).body).toMatchObject({ status: 'COMPLETED', updatedAt: done.updatedAt });
  });
});

describe('a failure on our side', () => {
  it('is a generic 500 with a correlation id — no detail, no stack trace — and the job is ended FAILED', async () => {
    const broken: VideoWorkflow = {
      start: async () => {
        throw new Error('connect ECONNREFUSED states.internal.example:443 (secret detail)');
      },
      stop: (jobId, reason) => env.stack.workflow.stop(jobId, reason),
    };
    const brokenApi = await env.apiWith(broken);
    const response = await brokenApi.create(request('a fox that cannot start'), {
      'Idempotency-Key': 'broken-1',
    });

    expect(response.status).toBe(500);
    const requestId = response.headers.get('x-amzn-requestid');
    expect(requestId).toEqual(expect.any(String));
    expect(response.body).toEqual({
      error: {
        code: 'InternalError',
        message: `The request failed on our side. Quote request id ${requestId} when reporting it.`,
        requestId,
      },
    });
    expect(response.text).not.toMatch(/ECONNREFUSED|secret detail|\bat .+:\d+:\d+|Error:/);
    expect(emulatorOf(env.stack).control.counters().byEndpoint.submit).toBe(0);

    // The record it had already created is not left PENDING forever.
    const [job] = (
      (await api.list({ status: 'FAILED' })).body.items as { jobId: string; error?: unknown }[]
    ).filter((j) => (j.error as { code?: string } | undefined)?.code === 'WorkflowStartError');
    expect(job).toBeDefined();
  });

  it('GET of a job that does not exist is a 404 naming it', async () => {
    const response = await api.get('no-such-job');
    expect(response.status).toBe(404);
    expect(errorOf(response)).toMatchObject({ code: 'NotFound', message: 'there is no job no-such-job' });
  });
});
