// The client over real loopback HTTP against small hand-written servers: the answers and network faults
// the emulator cannot produce, and the wire details (headers, URLs followed) the emulator would hide.

import { afterEach, describe, expect, it } from 'vitest';
import { SegmindClient, type SegmindClientOptions } from '#segmind/client';
import { completedResult, isCompletedResult, isPendingResult } from '#segmind/results';
import type { SegmindVideoRequest } from '#segmind/types';
import { expectSegmindError } from './support/expect-error';
import {
  closedPort,
  json,
  type StubHandler,
  type StubServer,
  startSilentServer,
  startStub,
} from './support/stub-server';

const API_KEY = 'SG_0123456789abcdef';
const REQUEST: SegmindVideoRequest = {
  prompt: 'a fox in the snow',
  duration: 6,
  resolution: '1080p',
  generate_audio: true,
};
const ID = '2c7f59ea-13f1-402c-9353-915a2b5a2124';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const stub = async (handler: StubHandler): Promise<StubServer> => {
  const server = await startStub(handler);
  cleanups.push(() => server.close());
  return server;
};

const clientFor = (baseUrl: string, options: Partial<SegmindClientOptions> = {}): SegmindClient =>
  new SegmindClient({ baseUrl, apiKey: API_KEY, connectTimeoutMs: 2_000, readTimeoutMs: 2_000, ...options });

const accepted = (baseUrl: string) => ({
  request_id: ID,
  status: 'QUEUED',
  poll_url: `${baseUrl}/v1/requests/${ID}`,
  status_url: `${baseUrl}/v2/requests/${ID}/status`,
  response_url: `${baseUrl}/v2/requests/${ID}`,
});

describe('SegmindClient on the wire', () => {
  it('submits the model fields with x-api-key, JSON headers and the user agent, and returns the URLs given', async () => {
    let base = '';
    const server = await stub((req, res, socket) =>
      json(200, accepted(`${base}/elsewhere`))(req, res, socket),
    );
    base = server.url;
    const client = clientFor(server.url, { userAgent: 'ltx-test/1' });

    const submitted = await client.submit(REQUEST);

    expect(submitted).toEqual({
      requestId: ID,
      statusUrl: `${server.url}/elsewhere/v2/requests/${ID}/status`,
      responseUrl: `${server.url}/elsewhere/v2/requests/${ID}`,
    });
    const [sent] = server.requests;
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/v2/ltx-2-fast');
    expect(JSON.parse(sent?.body ?? '')).toEqual(REQUEST);
    expect(sent?.headers['x-api-key']).toBe(API_KEY);
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.headers['user-agent']).toBe('ltx-test/1');
  });

  it('follows the absolute status_url and response_url it was given, not the base URL', async () => {
    const target = await stub(json(200, { status: 'PROCESSING', request_id: ID, metrics: {} }));
    const base = await stub(json(500, { error: 'the base URL must not be used' }));
    const client = clientFor(base.url);

    await expect(client.status(`${target.url}/v2/requests/${ID}/status`)).resolves.toMatchObject({
      status: 'PROCESSING',
    });
    await expect(client.result(`${target.url}/v2/requests/${ID}`)).resolves.toMatchObject({ pending: true });
    expect(base.requests).toHaveLength(0);
    expect(target.requests.map((r) => `${r.method} ${r.path} ${r.headers['x-api-key']}`)).toEqual([
      `GET /v2/requests/${ID}/status ${API_KEY}`,
      `GET /v2/requests/${ID} ${API_KEY}`,
    ]);
  });

  it('resolves a bare request id against the base URL', async () => {
    const server = await stub(json(200, { status: 'QUEUED', request_id: ID }));
    await clientFor(`${server.url}/prefix/`).status(ID);
    expect(server.requests[0]?.path).toBe(`/prefix/v2/requests/${ID}/status`);
  });

  it('posts to the configured model', async () => {
    const server = await stub(json(200, accepted('http://x')));
    await clientFor(server.url, { model: 'ltx-2' }).submit(REQUEST);
    expect(server.requests[0]?.path).toBe('/v2/ltx-2');
  });

  it('falls back to the documented URLs when submit gives none usable (missing, javascript:, ftp:)', async () => {
    const server = await stub(
      json(200, {
        request_id: ID,
        status: 'QUEUED',
        status_url: 'javascript:alert(1)',
        response_url: 'ftp://x/y',
      }),
    );
    await expect(clientFor(server.url).submit(REQUEST)).resolves.toEqual({
      requestId: ID,
      statusUrl: `${server.url}/v2/requests/${ID}/status`,
      responseUrl: `${server.url}/v2/requests/${ID}`,
    });
  });

  it('refuses to follow a URL that is not http(s), or that downgrades an https base to http', async () => {
    const client = clientFor('https://api.segmind.com');
    await expect(client.status('file:///etc/passwd')).rejects.toThrow(TypeError);
    await expect(client.result(`http://api.segmind.com/v2/requests/${ID}`)).rejects.toThrow(TypeError);
    await expect(client.status('a/../../b')).rejects.toThrow(TypeError);
  });

  it('reads the key lazily from an async provider, once per call', async () => {
    const server = await stub(json(200, { status: 'QUEUED', request_id: ID }));
    let reads = 0;
    const client = clientFor(server.url, {
      apiKey: async () => {
        reads += 1;
        return API_KEY;
      },
    });
    expect(reads).toBe(0);
    await client.status(ID);
    expect(reads).toBe(1);
    expect(server.requests[0]?.headers['x-api-key']).toBe(API_KEY);
  });

  it('refuses an empty key before sending anything', async () => {
    const server = await stub(json(200, accepted('http://x')));
    await expectSegmindError(
      clientFor(server.url, { apiKey: async () => '  ' }).submit(REQUEST),
      { name: 'SegmindAuthError', retryable: false, submitOutcome: 'not-created' },
      API_KEY,
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe('SegmindClient: explicit answers the emulator does not give', () => {
  it.each([
    [403, { error: 'Forbidden' }, 'SegmindAuthError', false],
    [410, { error: 'Model retired' }, 'SegmindModelGoneError', false],
    [400, { error: 'duration must be 6, 8 or 10' }, 'SegmindBadRequestError', false],
    [422, { error: 'prompt too long' }, 'SegmindBadRequestError', false],
    [500, { error: 'Internal Server Error' }, 'SegmindUnavailableError', true],
    [503, { error: 'Service temporarily unavailable' }, 'SegmindUnavailableError', true],
  ] as const)('submit answered %i is %s, certainly not created', async (status, body, name, retryable) => {
    const server = await stub(json(status, body));
    await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      { name, retryable, submitOutcome: 'not-created', httpStatus: status },
      API_KEY,
    );
  });

  it('a 504 on submit is retryable but may have created the job (the gateway gave up on a live backend)', async () => {
    const server = await stub(
      json(504, '<html><title>504 Gateway Time-out</title></html>', { 'content-type': 'text/html' }),
    );
    const error = await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      { name: 'SegmindUnavailableError', retryable: true, submitOutcome: 'may-exist', httpStatus: 504 },
      API_KEY,
    );
    expect(error.message).toContain('504 Gateway Time-out');
  });

  // A proxy in front of Segmind answers these: it may have lost the answer to a POST Segmind accepted.
  it.each([
    [502, '<html><body>Bad Gateway</body></html>'],
    [502, { error: 'Bad Gateway' }],
    [503, ''],
    [503, '<html><title>503 Service Unavailable</title></html>'],
    [500, { message: 'Internal server error' }],
    [500, 'upstream connect error or disconnect/reset before headers'],
  ] as const)('submit answered %i with %j is an unknown outcome (may-exist)', async (status, body) => {
    const server = await stub(json(status, body));
    await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      { name: 'SegmindUnavailableError', retryable: true, submitOutcome: 'may-exist', httpStatus: status },
      API_KEY,
    );
  });

  it('a 405 HTML page is a malformed answer that created nothing', async () => {
    const server = await stub(
      json(405, '<html><title>405 Method Not Allowed</title></html>', { 'content-type': 'text/html' }),
    );
    await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      {
        name: 'SegmindMalformedResponseError',
        retryable: true,
        submitOutcome: 'not-created',
        httpStatus: 405,
      },
      API_KEY,
    );
    await expectSegmindError(
      clientFor(server.url).status(ID),
      { name: 'SegmindMalformedResponseError', retryable: true, httpStatus: 405, requestId: ID },
      API_KEY,
    );
  });

  it('a 403 on a poll is an auth error carrying the request id', async () => {
    const server = await stub(json(403, { error: 'Forbidden' }));
    await expectSegmindError(
      clientFor(server.url).status(ID),
      { name: 'SegmindAuthError', retryable: false, httpStatus: 403, requestId: ID },
      API_KEY,
    );
  });

  it('never repeats the key, even when Segmind echoes it back', async () => {
    const server = await stub(json(401, { error: `Invalid key ${API_KEY} for this model` }));
    const error = await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      { name: 'SegmindAuthError', retryable: false, submitOutcome: 'not-created' },
      API_KEY,
    );
    expect(error.message).toContain('[redacted]');
  });

  it('reads a 429 reset time given as epoch seconds', async () => {
    const server = await stub(
      json(429, { error: 'Too many requests' }, { 'x-rate-limit-reset-at-utc': '1767225600' }),
    );
    const error = await expectSegmindError(
      clientFor(server.url).status(ID),
      { name: 'SegmindRateLimitedError', retryable: true, httpStatus: 429 },
      API_KEY,
    );
    expect(error).toHaveProperty('resetAt', new Date('2026-01-01T00:00:00Z'));
  });
});

describe('SegmindClient: bodies it cannot read', () => {
  it('a body over the limit is malformed, whether declared by Content-Length or streamed', async () => {
    const big = JSON.stringify({ ...accepted('http://x'), padding: 'x'.repeat(4096) });
    const declared = await stub(json(200, big));
    const streamed = await stub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no Content-Length
      for (let i = 0; i < 8; i += 1) res.write('x'.repeat(1024));
      res.end();
    });
    for (const server of [declared, streamed]) {
      await expectSegmindError(
        clientFor(server.url, { maxResponseBytes: 2048 }).submit(REQUEST),
        {
          name: 'SegmindMalformedResponseError',
          retryable: true,
          submitOutcome: 'may-exist',
          message: /larger than 2048 bytes/,
        },
        API_KEY,
      );
      await expectSegmindError(
        clientFor(server.url, { maxResponseBytes: 2048 }).status(ID),
        { name: 'SegmindMalformedResponseError', retryable: true, submitOutcome: 'not-created' },
        API_KEY,
      );
    }
  });

  it('an oversize error page still maps by its status code', async () => {
    const server = await stub(json(503, `<html>${'x'.repeat(10_000)}</html>`));
    await expectSegmindError(
      clientFor(server.url, { maxResponseBytes: 1024 }).submit(REQUEST),
      { name: 'SegmindUnavailableError', retryable: true, submitOutcome: 'may-exist', httpStatus: 503 },
      API_KEY,
    );
  });

  it.each([
    ['an empty body', ''],
    ['a non-JSON body', 'OK'],
    ['a JSON array', '[1,2]'],
    ['JSON without request_id', '{"status":"QUEUED"}'],
    ['a request_id that is not a string', '{"request_id":42}'],
  ])('a 200 to submit with %s is malformed and may have created the job', async (_what, body) => {
    const server = await stub(json(200, body));
    await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      { name: 'SegmindMalformedResponseError', retryable: true, submitOutcome: 'may-exist', httpStatus: 200 },
      API_KEY,
    );
  });

  it('a 200 poll without a status, or COMPLETED without any video URL, is malformed', async () => {
    const noStatus = await stub(json(200, { request_id: ID }));
    await expectSegmindError(
      clientFor(noStatus.url).status(ID),
      { name: 'SegmindMalformedResponseError', retryable: true, requestId: ID },
      API_KEY,
    );
    const noVideo = await stub(json(200, { status: 'COMPLETED', output: 'not a url', video: { url: 42 } }));
    await expectSegmindError(
      clientFor(noVideo.url).result(ID),
      {
        name: 'SegmindMalformedResponseError',
        retryable: true,
        requestId: ID,
        message: /no http\(s\) video URL/,
      },
      API_KEY,
    );
  });

  it('a body cut off mid-way after a 200 is upstream unavailable, and may have created a submitted job', async () => {
    const server = await stub((_req, res, socket) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"request_id":"');
      setTimeout(() => socket.destroy(), 20);
    });
    await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      { name: 'SegmindUnavailableError', retryable: true, submitOutcome: 'may-exist' },
      API_KEY,
    );
  });
});

describe('SegmindClient: the network', () => {
  it('a refused connection created nothing', async () => {
    const port = await closedPort();
    await expectSegmindError(
      clientFor(`http://127.0.0.1:${port}`).submit(REQUEST),
      {
        name: 'SegmindUnavailableError',
        retryable: true,
        submitOutcome: 'not-created',
        message: /ECONNREFUSED/,
      },
      API_KEY,
    );
  });

  it('a connect timeout (the TLS handshake never completes) created nothing', async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    await expectSegmindError(
      clientFor(`https://127.0.0.1:${silent.port}`, { connectTimeoutMs: 200 }).submit(REQUEST),
      {
        name: 'SegmindTimeoutError',
        retryable: true,
        submitOutcome: 'not-created',
        message: /connect timeout/,
      },
      API_KEY,
    );
  });

  it('a read timeout after the submit was sent may have created the job', async () => {
    const server = await stub(() => {}); // reads the whole request, never answers
    await expectSegmindError(
      clientFor(server.url, { readTimeoutMs: 200 }).submit(REQUEST),
      { name: 'SegmindTimeoutError', retryable: true, submitOutcome: 'may-exist', message: /read timeout/ },
      API_KEY,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('a status line followed by a stalled body times out too', async () => {
    const server = await stub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    });
    await expectSegmindError(
      clientFor(server.url, { readTimeoutMs: 200 }).status(ID),
      { name: 'SegmindTimeoutError', retryable: true, requestId: ID },
      API_KEY,
    );
  });

  it('a connection reset after the submit was sent may have created the job', async () => {
    const server = await stub((_req, _res, socket) => socket.destroy());
    await expectSegmindError(
      clientFor(server.url).submit(REQUEST),
      { name: 'SegmindUnavailableError', retryable: true, submitOutcome: 'may-exist' },
      API_KEY,
    );
  });
});

describe('SegmindClient: shapes that must not break it', () => {
  it('reads a COMPLETED result with extra fields and no video object from `output`', async () => {
    const server = await stub(
      json(200, {
        status: 'COMPLETED',
        error: null,
        output: 'https://images.segmind.com/generations/x.mp4',
        surprise: { nested: [1, 2, 3] },
        metrics: { inference_time: 41.2, queue_time: '3.1', cost: 0.52, remaining_credits: null, extra: 1 },
      }),
    );
    const report = await clientFor(server.url).result(ID);
    expect(isCompletedResult(report)).toBe(true);
    expect(report).toEqual({
      status: 'COMPLETED',
      requestId: ID,
      video: { url: 'https://images.segmind.com/generations/x.mp4' },
      metrics: { inferenceTime: 41.2, cost: 0.52 },
    });
  });

  it('prefers the video object and maps its fields', async () => {
    const server = await stub(
      json(200, {
        status: 'COMPLETED',
        request_id: ID,
        output: 'https://images.segmind.com/generations/old.mp4',
        video: {
          url: 'https://images.segmind.com/generations/v.mp4',
          content_type: 'video/mp4',
          file_name: 'v.mp4',
          file_size: 18734112,
        },
        metrics: {
          inference_time: 41.2,
          queue_time: 3.1,
          total_time: 44.3,
          cost: 0.52,
          remaining_credits: 118.4,
        },
      }),
    );
    const report = completedResult(await clientFor(server.url).result(ID));
    expect(report?.video).toEqual({
      url: 'https://images.segmind.com/generations/v.mp4',
      contentType: 'video/mp4',
      fileName: 'v.mp4',
      fileSize: 18734112,
    });
    expect(report?.metrics).toEqual({
      inferenceTime: 41.2,
      queueTime: 3.1,
      totalTime: 44.3,
      cost: 0.52,
      remainingCredits: 118.4,
    });
  });

  it('returns an unknown status string as is, as a pending result', async () => {
    const server = await stub(json(200, { status: 'WARMING_UP', request_id: ID }));
    const client = clientFor(server.url);
    await expect(client.status(ID)).resolves.toEqual({ requestId: ID, status: 'WARMING_UP', metrics: {} });
    const report = await client.result(ID);
    expect(isPendingResult(report)).toBe(true);
    expect(completedResult(report)).toBeUndefined();
  });

  it('reads FAILED as data whatever the HTTP code, and a 422 with only an error as FAILED', async () => {
    const failed = {
      status: 'FAILED',
      error: 'Prompt is Mandatory and must be string',
      request_id: ID,
      metrics: { total_time: 0.24 },
    };
    for (const status of [422, 200, 500]) {
      const server = await stub(json(status, failed));
      await expect(clientFor(server.url).status(ID)).resolves.toEqual({
        requestId: ID,
        status: 'FAILED',
        error: 'Prompt is Mandatory and must be string',
        metrics: { totalTime: 0.24 },
      });
    }
    const bare = await stub(json(422, { error: 'content blocked' }));
    await expect(clientFor(bare.url).result(ID)).resolves.toMatchObject({
      status: 'FAILED',
      error: 'content blocked',
    });
    await expectSegmindError(
      Promise.resolve(clientFor(bare.url).result(ID)).then(completedResult),
      { name: 'SegmindJobFailedError', retryable: false, requestId: ID, message: /content blocked/ },
      API_KEY,
    );
  });
});
