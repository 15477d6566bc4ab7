// The control API (in process and over HTTP): counters, determinism, config, credits, reset.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHEAP_JOB,
  CHEAP_SHAPE,
  finish,
  get,
  post,
  readJson,
  start,
  submitJob,
  type TestEmulator,
} from '#test/emulator/helpers';

const control = (emulator: TestEmulator, method: string, path: string, body?: unknown) =>
  fetch(`${emulator.url}/__emulator${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

describe('control API', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await start({ apiKeys: ['SG_1111111111111111', 'SG_2222222222222222'] });
    await emulator.prepareVideos([CHEAP_SHAPE]);
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.control.reset());

  it('counts requests by endpoint, by key and by status code; control calls are not Segmind traffic', async () => {
    const { status_url, response_url, request_id } = await submitJob(emulator);
    await get(emulator, status_url);
    await get(emulator, status_url);
    finish(emulator, request_id);
    const result = (await readJson(await get(emulator, response_url))) as { output: string };
    await (await fetch(result.output)).arrayBuffer();
    await get(emulator, '/v1/get-user-credits', { 'x-api-key': 'SG_2222222222222222' });
    await post(emulator, CHEAP_JOB, { 'x-api-key': '' });
    await get(emulator, '/elsewhere');
    await control(emulator, 'GET', '/counters');

    const counters = emulator.control.counters();
    expect(counters.byEndpoint).toEqual({
      submit: 2,
      status: 2,
      result: 1,
      download: 1,
      credits: 1,
      control: 1,
      other: 1,
    });
    expect(counters.byKey).toEqual({
      SG_1111111111111111: { submit: 1, status: 2, result: 1, other: 1 },
      SG_2222222222222222: { credits: 1 },
      '(none)': { submit: 1, download: 1 },
    });
    expect(counters.byStatusCode).toEqual({ '200': 6, '401': 1, '404': 1 });
    expect(counters.jobsCreated).toBe(1);
  });

  it('tracks the most jobs in flight at once', async () => {
    const jobs = await Promise.all([submitJob(emulator), submitJob(emulator), submitJob(emulator)]);
    for (const job of jobs) finish(emulator, job.request_id);
    await submitJob(emulator);
    expect(emulator.control.counters().maxConcurrentJobs).toBe(3);
  });

  it('serves counters, jobs and config over HTTP without an API key', async () => {
    await submitJob(emulator);
    const counters = await readJson(await control(emulator, 'GET', '/counters'));
    expect(counters).toMatchObject({ jobsCreated: 1 });
    const { jobs } = (await readJson(await control(emulator, 'GET', '/jobs'))) as { jobs: unknown[] };
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      prompt: CHEAP_JOB.prompt,
      status: 'QUEUED',
      apiKey: 'SG_1111111111111111',
    });
    expect(await readJson(await control(emulator, 'GET', '/config'))).toMatchObject({ timeScale: 1 });
  });

  it('configures over HTTP, merging the latency model field by field', async () => {
    const response = await control(emulator, 'POST', '/config', {
      timeScale: 50,
      costPerJob: 1.25,
      latency: { queueMedianSeconds: 10, resolutionFactor: { '4k': 3 } },
    });
    expect(response.status).toBe(200);
    const config = emulator.control.config();
    expect(config).toMatchObject({ timeScale: 50, costPerJob: 1.25 });
    expect(config.latency.queueMedianSeconds).toBe(10);
    expect(config.latency.resolutionFactor).toEqual({ '1080p': 0.85, '2k': 1, '4k': 3 });
    expect(config.latency.inferenceBaseSeconds).toBe(44.5);
  });

  it('refuses a bad config with 400 over HTTP and a throw in process', async () => {
    expect((await control(emulator, 'POST', '/config', { timeScale: 0 })).status).toBe(400);
    expect((await control(emulator, 'POST', '/config', { timescale: 2 })).status).toBe(400);
    expect(() => emulator.control.configure({ rateLimitPerMinute: -1 })).toThrow(/rateLimitPerMinute/);
    expect(emulator.control.config().timeScale).toBe(1);
  });

  it('sets credits over HTTP and bills the configured cost', async () => {
    await control(emulator, 'POST', '/credits', { apiKey: 'SG_1111111111111111', credits: 2 });
    await control(emulator, 'POST', '/config', { costPerJob: 1.5 });
    const { request_id, response_url } = await submitJob(emulator);
    finish(emulator, request_id);
    const result = (await readJson(await get(emulator, response_url))) as { metrics: Record<string, number> };
    expect(result.metrics).toMatchObject({ cost: 1.5, remaining_credits: 0.5 });
    // 0.5 left is less than one job: the next submit is refused.
    expect((await post(emulator, CHEAP_JOB)).status).toBe(406);
  });

  it('adds and clears failure rules over HTTP', async () => {
    expect(
      (await control(emulator, 'POST', '/failures', { promptContains: 'lighthouse', kind: 'failed' })).status,
    ).toBe(200);
    const failing = await submitJob(emulator);
    await control(emulator, 'DELETE', '/failures');
    const fine = await submitJob(emulator);
    finish(emulator, fine.request_id);
    expect((await get(emulator, failing.status_url)).status).toBe(422);
    expect((await get(emulator, fine.status_url)).status).toBe(200);
    expect((await control(emulator, 'POST', '/failures', { kind: 'failed' })).status).toBe(400);
  });

  it('advances the clock over HTTP', async () => {
    const { status_url } = await submitJob(emulator);
    expect((await control(emulator, 'POST', '/clock', { advanceSeconds: 3601 })).status).toBe(200);
    expect((await get(emulator, status_url)).status).toBe(404);
  });

  it('reset forgets jobs, faults, rules, counters and restores config and credits', async () => {
    emulator.control.configure({ timeScale: 9, rateLimitPerMinute: 1 });
    emulator.control.setCredits(emulator.key, 3);
    emulator.control.addFailureRule({ probability: 1, kind: 'failed' });
    const { status_url } = await submitJob(emulator);
    emulator.control.injectFault({ endpoint: 'credits', kind: 'reset', count: Number.POSITIVE_INFINITY });
    expect((await control(emulator, 'POST', '/reset')).status).toBe(200);

    expect(emulator.control.config()).toMatchObject({ timeScale: 1, rateLimitPerMinute: 1_000_000 });
    expect(emulator.control.jobs()).toEqual([]);
    expect(emulator.control.counters()).toMatchObject({ jobsCreated: 0, byStatusCode: {} });
    expect((await get(emulator, status_url)).status).toBe(404);
    expect(await readJson(await get(emulator, '/v1/get-user-credits'))).toEqual({
      credits: 100,
      'free-credits': 0,
    });
    const fresh = await submitJob(emulator);
    finish(emulator, fresh.request_id);
    expect((await get(emulator, fresh.status_url)).status).toBe(200);
  });

  it('answers 404 for an unknown control route', async () => {
    expect((await control(emulator, 'GET', '/nothing')).status).toBe(404);
  });
});

describe('determinism', () => {
  const started: TestEmulator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });

  const run = async (seed: number) => {
    const emulator = await start({ seed });
    started.push(emulator);
    emulator.control.addFailureRule({ probability: 0.3, kind: 'failed' });
    for (const resolution of ['1080p', '2k', '4k', '1080p', '2k', '4k', '2k', '2k']) {
      await submitJob(emulator, { prompt: 'same prompt', resolution, duration: 6 });
    }
    return emulator.control.jobs().map(({ queueSeconds, inferenceSeconds, coldWorker, resolution }) => ({
      queueSeconds,
      inferenceSeconds,
      coldWorker,
      resolution,
    }));
  };

  it('draws the same latencies with the same seed, and different ones with another', async () => {
    const first = await run(1234);
    const again = await run(1234);
    const other = await run(4321);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('decides the same failures with the same seed, whatever the latency model', async () => {
    const fates = async (queueMedianSeconds: number) => {
      const emulator = await start({ seed: 99 });
      started.push(emulator);
      emulator.control.configure({ latency: { queueMedianSeconds } });
      emulator.control.addFailureRule({ probability: 0.5, kind: 'failed' });
      const ids = [];
      for (let i = 0; i < 12; i += 1) ids.push((await submitJob(emulator)).request_id);
      emulator.control.advanceClock(1000);
      return Promise.all(ids.map(async (id) => (await get(emulator, `/v2/requests/${id}/status`)).status));
    };
    const a = await fates(1);
    const b = await fates(5);
    expect(a).toEqual(b);
    expect(a).toContain(422);
    expect(a).toContain(200);
  });
});
