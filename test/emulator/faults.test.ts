// Every fault kind of control.ts, as a client sees it on the wire.
import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await start();
  await emulator.prepareVideos([CHEAP_SHAPE]);
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.control.reset());

const completedJob = async () => {
  const job = await submitJob(emulator);
  finish(emulator, job.request_id);
  const result = (await readJson(await get(emulator, job.response_url))) as { output: string };
  return { ...job, output: result.output };
};

/** Reads a response with node:http to see exactly what arrived before the connection ended. */
const rawGet = (url: string) =>
  new Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer; complete: boolean }>(
    (resolve, reject) => {
      const req = request(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            bytes: Buffer.concat(chunks),
            complete: res.complete,
          });
        res.on('end', done);
        res.on('aborted', done);
        res.on('error', done);
      });
      req.on('error', reject);
      req.end();
    },
  );

describe('gateway faults (the request never reaches Segmind)', () => {
  it.each([
    ['html', 502, /text\/html/],
    ['json', 500, /application\/json/],
    ['empty', 503, null],
  ] as const)(
    'http-error with a %s body answers %i and creates no job',
    async (body, status, contentType) => {
      emulator.control.injectFault({ endpoint: 'submit', kind: 'http-error', status, body });
      const response = await post(emulator, CHEAP_JOB);
      expect(response.status).toBe(status);
      if (contentType === null) expect(await response.text()).toBe('');
      else expect(response.headers.get('content-type')).toMatch(contentType);
      expect(emulator.control.counters().jobsCreated).toBe(0);
      // One use only: the next submit goes through.
      expect((await post(emulator, CHEAP_JOB)).status).toBe(200);
    },
  );

  it('rate-limit answers 429 with the reset header', async () => {
    emulator.control.injectFault({ endpoint: 'status', kind: 'rate-limit', count: 2 });
    const { status_url } = await submitJob(emulator);
    for (let i = 0; i < 2; i += 1) {
      const response = await get(emulator, status_url);
      expect(response.status).toBe(429);
      expect(Number.isNaN(Date.parse(response.headers.get('x-rate-limit-reset-at-utc') ?? ''))).toBe(false);
      expect(response.headers.get('retry-after')).toBeNull();
    }
    expect((await get(emulator, status_url)).status).toBe(200);
  });

  it('reset-before-accept drops the connection and creates no job', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'reset-before-accept' });
    await expect(post(emulator, CHEAP_JOB)).rejects.toThrow();
    const counters = emulator.control.counters();
    expect(counters.jobsCreated).toBe(0);
    expect(counters.connectionsReset).toBe(1);
  });

  it('missing-request-id answers 200 without request_id and creates no job', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'missing-request-id' });
    const response = await post(emulator, CHEAP_JOB);
    expect(response.status).toBe(200);
    expect(await readJson(response)).not.toHaveProperty('request_id');
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });

  it('reset on a GET drops the connection without an answer', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.injectFault({ endpoint: 'status', kind: 'reset' });
    await expect(get(emulator, status_url)).rejects.toThrow();
    expect((await get(emulator, status_url)).status).toBe(200);
  });
});

describe('faults after the request was handled', () => {
  it('reset-after-accept creates the job, then drops the connection (the ambiguous case)', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'reset-after-accept' });
    await expect(post(emulator, CHEAP_JOB)).rejects.toThrow();
    expect(emulator.control.counters().jobsCreated).toBe(1);
    expect(emulator.control.jobs()).toHaveLength(1);
  });

  it('slow delays the answer past a client timeout; the job exists anyway', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'slow', delayMs: 3000 });
    const slow = fetch(`${emulator.url}/v2/ltx-2-fast`, {
      method: 'POST',
      headers: { 'x-api-key': emulator.key, 'content-type': 'application/json' },
      body: JSON.stringify(CHEAP_JOB),
      signal: AbortSignal.timeout(150),
    });
    await expect(slow).rejects.toThrow();
    expect(emulator.control.counters().jobsCreated).toBe(1);
  });

  it('slow still answers normally when the client waits', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.injectFault({ endpoint: 'status', kind: 'slow', delayMs: 50 });
    const response = await get(emulator, status_url);
    expect(response.status).toBe(200);
    expect(await readJson(response)).toHaveProperty('status');
  });

  it('truncate announces the full Content-Length, sends fewer bytes, then closes', async () => {
    const { output } = await completedJob();
    const full = Buffer.from(await (await fetch(output)).arrayBuffer());
    emulator.control.injectFault({ endpoint: 'download', kind: 'truncate', bytes: 1000 });
    const cut = await rawGet(output);
    expect(cut.status).toBe(200);
    expect(Number(cut.headers['content-length'])).toBe(full.length);
    expect(cut.bytes.length).toBe(1000);
    expect(cut.complete).toBe(false);
    expect(cut.bytes.equals(full.subarray(0, 1000))).toBe(true);
  });

  it('truncate also makes fetch fail while reading the body', async () => {
    const { output } = await completedJob();
    emulator.control.injectFault({ endpoint: 'download', kind: 'truncate' });
    const response = await fetch(output);
    await expect(response.arrayBuffer()).rejects.toThrow();
  });

  it('corrupt keeps the length but breaks the MP4 signature', async () => {
    const { output } = await completedJob();
    const full = Buffer.from(await (await fetch(output)).arrayBuffer());
    emulator.control.injectFault({ endpoint: 'download', kind: 'corrupt' });
    const response = await fetch(output);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.length).toBe(full.length);
    expect(full.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(bytes.subarray(4, 8).toString('latin1')).not.toBe('ftyp');
    expect(bytes.equals(full)).toBe(false);
  });

  it('wrong-content-type changes only the header', async () => {
    const { output } = await completedJob();
    emulator.control.injectFault({
      endpoint: 'download',
      kind: 'wrong-content-type',
      contentType: 'text/html',
    });
    const response = await fetch(output);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(
      Buffer.from(await response.arrayBuffer())
        .subarray(4, 8)
        .toString('latin1'),
    ).toBe('ftyp');
  });

  it('empty-body answers 200 with nothing in it', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.injectFault({ endpoint: 'status', kind: 'empty-body' });
    const response = await get(emulator, status_url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('non-json answers 200 with text that is not JSON', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.injectFault({ endpoint: 'status', kind: 'non-json' });
    const response = await get(emulator, status_url);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it('extra-fields adds unknown fields and keeps the documented ones', async () => {
    const { request_id, response_url } = await submitJob(emulator);
    finish(emulator, request_id);
    emulator.control.injectFault({ endpoint: 'result', kind: 'extra-fields' });
    const body = await readJson(await get(emulator, response_url));
    expect(body).toMatchObject({
      status: 'COMPLETED',
      output: expect.any(String),
      video: expect.any(Object),
    });
    expect(Object.keys(body).length).toBeGreaterThan(5);
  });

  it('missing-video-object drops `video` from a COMPLETED result, and is not spent on a pending one', async () => {
    const { request_id, response_url } = await submitJob(emulator);
    emulator.control.injectFault({ endpoint: 'result', kind: 'missing-video-object' });
    expect(await readJson(await get(emulator, response_url))).toMatchObject({ status: 'QUEUED' });
    finish(emulator, request_id);
    const body = await readJson(await get(emulator, response_url));
    expect(body).toMatchObject({ status: 'COMPLETED', output: expect.any(String) });
    expect(body).not.toHaveProperty('video');
    expect(await readJson(await get(emulator, response_url))).toHaveProperty('video');
  });

  it('unknown-status reports a status Segmind never documented', async () => {
    const { request_id, status_url } = await submitJob(emulator);
    finish(emulator, request_id);
    emulator.control.injectFault({ endpoint: 'status', kind: 'unknown-status', status: 'STARTING' });
    const response = await get(emulator, status_url);
    expect(response.status).toBe(200);
    expect(await readJson(response)).toMatchObject({ status: 'STARTING', request_id });
    expect(await readJson(await get(emulator, status_url))).toMatchObject({ status: 'COMPLETED' });
  });
});

describe('fault targeting', () => {
  it('applies to the next `count` requests on its endpoint only', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.injectFault({
      endpoint: 'status',
      kind: 'http-error',
      status: 502,
      body: 'html',
      count: 2,
    });
    expect((await get(emulator, '/v1/get-user-credits')).status).toBe(200);
    expect((await get(emulator, status_url)).status).toBe(502);
    expect((await get(emulator, status_url)).status).toBe(502);
    expect((await get(emulator, status_url)).status).toBe(200);
  });

  it('can aim at one request id', async () => {
    const a = await submitJob(emulator);
    const b = await submitJob(emulator);
    emulator.control.injectFault({
      endpoint: 'status',
      kind: 'http-error',
      status: 504,
      body: 'json',
      requestId: b.request_id,
    });
    expect((await get(emulator, a.status_url)).status).toBe(200);
    expect((await get(emulator, b.status_url)).status).toBe(504);
  });

  it('lasts until cleared with count Infinity (null over HTTP)', async () => {
    const { status_url } = await submitJob(emulator);
    const armed = await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        endpoint: 'status',
        kind: 'http-error',
        status: 500,
        body: 'empty',
        count: null,
      }),
    });
    expect(armed.status).toBe(200);
    for (let i = 0; i < 5; i += 1) expect((await get(emulator, status_url)).status).toBe(500);
    const cleared = await fetch(`${emulator.url}/__emulator/faults`, { method: 'DELETE' });
    expect(cleared.status).toBe(200);
    expect((await get(emulator, status_url)).status).toBe(200);
  });

  it('refuses a malformed fault with a message', async () => {
    expect(() => emulator.control.injectFault({ endpoint: 'status', kind: 'slow' } as never)).toThrow(
      /delayMs/,
    );
    const response = await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'everywhere', kind: 'reset' }),
    });
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ error: expect.stringMatching(/endpoint/) });
  });
});
