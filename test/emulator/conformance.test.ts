// Drives the emulator with plain fetch through every row of infra/local/emulator/SEGMIND_API.md, as a Segmind user would.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHEAP_JOB,
  CHEAP_SHAPE,
  finish,
  get,
  jobView,
  post,
  readJson,
  start,
  submitJob,
  type TestEmulator,
  waitForTerminal,
} from '#test/emulator/helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await start({ apiKeys: ['SG_aaaaaaaaaaaaaaaa', 'SG_bbbbbbbbbbbbbbbb'] });
  await emulator.prepareVideos([CHEAP_SHAPE]);
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.control.reset());

describe('authentication', () => {
  it('answers 401 with Segmind message when x-api-key is missing', async () => {
    const response = await post(emulator, CHEAP_JOB, { 'x-api-key': '' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'Missing Authorization or x-api-key in header' });
  });

  it('rejects Authorization: Bearer with a valid key (only x-api-key counts)', async () => {
    const response = await fetch(`${emulator.url}/v2/ltx-2-fast`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(CHEAP_JOB),
    });
    expect(response.status).toBe(401);
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });

  it('answers 401 for an unknown key, on every endpoint', async () => {
    const bad = { 'x-api-key': 'SG_0000000000000000' };
    const submit = await post(emulator, CHEAP_JOB, bad);
    const status = await get(emulator, '/v2/requests/x/status', bad);
    const result = await get(emulator, '/v2/requests/x', bad);
    const credits = await get(emulator, '/v1/get-user-credits', bad);
    expect([submit.status, status.status, result.status, credits.status]).toEqual([401, 401, 401, 401]);
    expect(await readJson(submit)).toEqual({ error: expect.stringMatching(/invalid api key/i) });
  });
});

describe('submit', () => {
  it('answers 200 QUEUED with a UUID and absolute URLs pointing back at the emulator', async () => {
    const response = await post(emulator, CHEAP_JOB);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual([
      'poll_url',
      'request_id',
      'response_url',
      'status',
      'status_url',
    ]);
    expect(body.status).toBe('QUEUED');
    expect(body.request_id).toMatch(UUID);
    expect(body.status_url).toBe(`${emulator.url}/v2/requests/${body.request_id}/status`);
    expect(body.response_url).toBe(`${emulator.url}/v2/requests/${body.request_id}`);
    expect(body.poll_url).toBe(`${emulator.url}/v1/requests/${body.request_id}`);
  });

  it('applies Segmind defaults: 8 s, 2k, with audio, no image', async () => {
    const { request_id } = await submitJob(emulator, { prompt: 'defaults' });
    expect(jobView(emulator, request_id)).toMatchObject({
      duration: 8,
      resolution: '2k',
      generateAudio: true,
      image: null,
    });
  });

  it('creates a new job for every POST (no idempotency)', async () => {
    const a = await submitJob(emulator);
    const b = await submitJob(emulator);
    expect(a.request_id).not.toBe(b.request_id);
    expect(emulator.control.counters().jobsCreated).toBe(2);
  });

  it.each([
    ['missing prompt', { duration: 6 }, /prompt/],
    ['empty prompt', { prompt: '   ' }, /prompt/],
    ['non-string prompt', { prompt: 42 }, /prompt/],
    ['prompt over 5000 characters', { prompt: 'x'.repeat(5001) }, /prompt.*5000/],
    ['duration 7', { prompt: 'p', duration: 7 }, /duration/],
    ['duration as a string', { prompt: 'p', duration: '8' }, /duration/],
    ['resolution 720p', { prompt: 'p', resolution: '720p' }, /resolution/],
    ['generate_audio as a string', { prompt: 'p', generate_audio: 'yes' }, /generate_audio/],
    ['image that is not a URL', { prompt: 'p', image: 'cat.png' }, /image/],
    ['image with an ftp URL', { prompt: 'p', image: 'ftp://example.com/cat.png' }, /image/],
    [
      'image as a data URI (undocumented: refused)',
      { prompt: 'p', image: 'data:image/png;base64,AAAA' },
      /image/,
    ],
    ['a JSON array', [CHEAP_JOB], /object/],
  ])('answers 400 naming the field for %s, and creates nothing', async (_case, body, message) => {
    const response = await post(emulator, body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: string };
    expect(error).toMatch(message);
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });

  it('accepts a 5000-character prompt and an https image URL', async () => {
    const response = await post(emulator, {
      prompt: 'y'.repeat(5000),
      image: 'https://bucket.s3.amazonaws.com/cat.png?X-Amz-Signature=abc',
    });
    expect(response.status).toBe(200);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await post(emulator, '{"prompt": ');
    expect(response.status).toBe(400);
    expect(await readJson(response)).toHaveProperty('error');
  });

  it('answers 406 for a Content-Type other than JSON', async () => {
    const response = await post(emulator, JSON.stringify(CHEAP_JOB), { 'content-type': 'text/plain' });
    expect(response.status).toBe(406);
    expect(await readJson(response)).toHaveProperty('error');
  });

  it('answers 404 Model not found for another model', async () => {
    const response = await post(emulator, CHEAP_JOB, {}, '/v2/ltx-2-pro');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'Model not found' });
  });
});

describe('gateway behaviour', () => {
  it('answers 405 with an HTML page for a wrong method on a known path', async () => {
    for (const [method, path] of [
      ['GET', '/v2/ltx-2-fast'],
      ['POST', '/v2/requests/abc/status'],
      ['DELETE', '/v2/requests/abc'],
    ] as const) {
      const response = await fetch(`${emulator.url}${path}`, {
        method,
        headers: { 'x-api-key': emulator.key },
      });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      expect(await response.text()).toMatch(/<html>[\s\S]*405/);
    }
  });

  it('answers 404 for any other path', async () => {
    const response = await get(emulator, '/nothing/here');
    expect(response.status).toBe(404);
  });
});

describe('status and result', () => {
  it('walks QUEUED → PROCESSING → COMPLETED as emulated time passes', async () => {
    const { request_id, status_url, response_url } = await submitJob(emulator);
    const job = jobView(emulator, request_id);
    const statusNow = async () => readJson(await get(emulator, status_url));

    const queued = await statusNow();
    expect(queued).toMatchObject({ status: 'QUEUED', request_id, status_url, response_url, metrics: {} });
    const early = await get(emulator, response_url);
    expect(early.status).toBe(200);
    expect(await early.json()).toMatchObject({ status: 'QUEUED', request_id });

    emulator.control.advanceClock(job.queueSeconds + 0.01);
    expect(await statusNow()).toMatchObject({ status: 'PROCESSING', request_id });
    expect(await readJson(await get(emulator, response_url))).toMatchObject({ status: 'PROCESSING' });

    emulator.control.advanceClock(job.inferenceSeconds);
    const done = await statusNow();
    expect(done).toEqual({
      status: 'COMPLETED',
      request_id,
      metrics: { inference_time: expect.any(Number) },
    });
  });

  it('reaches COMPLETED on its own at a high time scale', async () => {
    emulator.control.configure({ timeScale: 400 });
    const { status_url } = await submitJob(emulator);
    const { httpStatus, body, seen } = await waitForTerminal(emulator, status_url);
    expect(httpStatus).toBe(200);
    expect(body.status).toBe('COMPLETED');
    expect(seen).toContain('COMPLETED');
    expect(seen.indexOf('QUEUED') <= seen.indexOf('COMPLETED')).toBe(true);
  });

  it('returns the documented result when COMPLETED, with a downloadable MP4', async () => {
    const { request_id, response_url } = await submitJob(emulator);
    finish(emulator, request_id);
    const response = await get(emulator, response_url);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      output: string;
      video: { url: string; file_size: number };
      metrics: Record<string, number>;
    };
    expect(body).toEqual({
      status: 'COMPLETED',
      error: null,
      output: expect.stringMatching(new RegExp(`^${emulator.url}/generations/[0-9a-f]+\\.mp4$`)),
      video: {
        url: body.output,
        content_type: 'video/mp4',
        file_name: expect.stringMatching(/\.mp4$/),
        file_size: expect.any(Number),
      },
      metrics: {
        inference_time: expect.any(Number),
        queue_time: expect.any(Number),
        total_time: expect.any(Number),
        cost: 0.5,
        remaining_credits: 99.5,
      },
    });
    const { inference_time, queue_time, total_time } = body.metrics;
    expect((inference_time ?? 0) + (queue_time ?? 0)).toBeCloseTo(total_time ?? -1, 2);
    const file = await fetch(body.output);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('video/mp4');
    expect(Number(file.headers.get('content-length'))).toBe(body.video.file_size);
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.length).toBe(body.video.file_size);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('answers 404 for an unknown id on both GETs, and for another key’s job', async () => {
    for (const path of ['/v2/requests/nope/status', '/v2/requests/nope']) {
      const response = await get(emulator, path);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'Request nope not found' });
    }
    const { status_url } = await submitJob(emulator);
    const other = await get(emulator, status_url, { 'x-api-key': 'SG_bbbbbbbbbbbbbbbb' });
    expect(other.status).toBe(404);
  });

  it('forgets a job after the retention window (1 h emulated), using the time scale', async () => {
    const { request_id, status_url, response_url } = await submitJob(emulator);
    finish(emulator, request_id);
    expect((await get(emulator, status_url)).status).toBe(200);
    // 1 emulated hour in about 36 ms of real time.
    emulator.control.configure({ timeScale: 100_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const url of [status_url, response_url]) {
      const response = await get(emulator, url);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: `Request ${request_id} not found` });
    }
  });

  it('keeps the job until just before the hour ends', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.advanceClock(3590);
    expect((await get(emulator, status_url)).status).toBe(200);
    emulator.control.advanceClock(20);
    expect((await get(emulator, status_url)).status).toBe(404);
  });
});

describe('FAILED jobs', () => {
  it('answers 422 with status FAILED on both status and result, and bills nothing', async () => {
    emulator.control.addFailureRule({ promptContains: 'explode', kind: 'failed', error: 'GPU fell over' });
    const { request_id, status_url, response_url } = await submitJob(emulator, {
      ...CHEAP_JOB,
      prompt: 'EXPLODE now',
    });
    finish(emulator, request_id);
    for (const url of [status_url, response_url]) {
      const response = await get(emulator, url);
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({
        status: 'FAILED',
        error: 'GPU fell over',
        metrics: {
          inference_time: expect.any(Number),
          queue_time: expect.any(Number),
          total_time: expect.any(Number),
        },
        request_id,
      });
    }
    expect(await readJson(await get(emulator, '/v1/get-user-credits'))).toEqual({
      credits: 100,
      'free-credits': 0,
    });
  });

  it('reports a content-safety block as FAILED with a safety message', async () => {
    emulator.control.addFailureRule({ promptContains: 'forbidden', kind: 'content-blocked' });
    const { request_id, status_url } = await submitJob(emulator, {
      ...CHEAP_JOB,
      prompt: 'something forbidden',
    });
    finish(emulator, request_id);
    const response = await get(emulator, status_url);
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/safety|content/i),
    });
  });

  it('fails jobs at random with a probability rule', async () => {
    emulator.control.addFailureRule({ probability: 1, kind: 'failed' });
    const { request_id, status_url } = await submitJob(emulator);
    finish(emulator, request_id);
    expect((await get(emulator, status_url)).status).toBe(422);
  });

  it('fails an image job whose image URL cannot be downloaded (checked for loopback URLs)', async () => {
    const { request_id, status_url } = await submitJob(emulator, {
      ...CHEAP_JOB,
      image: `${emulator.url}/no/such/image.png`,
    });
    // Let the emulator's own image fetch (a 404 from itself) settle.
    await new Promise((resolve) => setTimeout(resolve, 200));
    finish(emulator, request_id);
    const response = await get(emulator, status_url);
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/image/i) });
  });
});

describe('credits', () => {
  it('reports credits and charges only COMPLETED jobs, per key', async () => {
    expect(await readJson(await get(emulator, '/v1/get-user-credits'))).toEqual({
      credits: 100,
      'free-credits': 0,
    });
    const { request_id } = await submitJob(emulator);
    expect((await readJson(await get(emulator, '/v1/get-user-credits'))).credits).toBe(100);
    finish(emulator, request_id);
    expect((await readJson(await get(emulator, '/v1/get-user-credits'))).credits).toBe(99.5);
    const other = await get(emulator, '/v1/get-user-credits', { 'x-api-key': 'SG_bbbbbbbbbbbbbbbb' });
    expect((await readJson(other)).credits).toBe(100);
  });

  it('answers 406 Insufficient credits when the key has none left, and creates nothing', async () => {
    emulator.control.setCredits(emulator.key, 0);
    const response = await post(emulator, CHEAP_JOB);
    expect(response.status).toBe(406);
    expect(await response.json()).toEqual({ error: 'Insufficient credits' });
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });
});

describe('rate limit', () => {
  it('answers 429 with x-rate-limit-reset-at-utc and no Retry-After once the key used its RPM on any endpoint', async () => {
    emulator.control.configure({ rateLimitPerMinute: 3 });
    const { status_url } = await submitJob(emulator);
    expect((await get(emulator, status_url)).status).toBe(200);
    expect((await get(emulator, '/v1/get-user-credits')).status).toBe(200);
    const limited = await get(emulator, status_url);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    const reset = Date.parse(limited.headers.get('x-rate-limit-reset-at-utc') ?? '');
    expect(Number.isNaN(reset)).toBe(false);
    expect(reset).toBeGreaterThan(Date.now() - 1000);
    expect(await readJson(limited)).toHaveProperty('error');
    // Another key has its own budget; control calls never count.
    expect((await get(emulator, '/v1/get-user-credits', { 'x-api-key': 'SG_bbbbbbbbbbbbbbbb' })).status).toBe(
      200,
    );
    expect((await fetch(`${emulator.url}/__emulator/counters`)).status).toBe(200);
    // The window resets a minute (emulated) later.
    emulator.control.advanceClock(60);
    expect((await get(emulator, status_url)).status).toBe(200);
  });
});
