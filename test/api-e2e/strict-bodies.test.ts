// Strict bodies at the API's edge, over real HTTP on the local stack: only JSON (415 otherwise), prompts
// that are text (no NUL or other control characters, no lone surrogates, valid UTF-8 bytes), and a JSON
// error body — never an empty one — for a path or headers too large to read. Nothing is started.
import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES } from '#local/api-server';
import {
  type ApiClient,
  type ApiResponse,
  type ApiStack,
  errorOf,
  SMALL_JOB,
  startApiStack,
  startCounters,
} from '#test/api-e2e/support/api-stack';

let env: ApiStack;
let api: ApiClient;
let before: Started;

/** Records written and executions started (Segmind's counters move with the jobs the accepting tests start). */
type Started = Pick<ReturnType<typeof startCounters>, 'recordsPut' | 'executions'>;
const started = (): Started => {
  const { recordsPut, executions } = startCounters(env.stack);
  return { recordsPut, executions };
};

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  api = env.client;
});
afterAll(() => env?.stop());

beforeEach(() => {
  before = started();
});

const VALID = { prompt: 'a red fox running through snow', ...SMALL_JOB };

const expectRefused = (
  response: ApiResponse,
  status: number,
  code: string,
  field: string,
  message: RegExp,
) => {
  expect(response.status, response.text).toBe(status);
  const error = errorOf(response);
  expect(error.code).toBe(code);
  expect(error.fields?.find((f) => f.field === field)?.message, response.text).toMatch(message);
  expect(started()).toEqual(before);
};

describe('only application/json is read', () => {
  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain; charset=utf-8'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['a JSON look-alike', 'application/jsonp'],
    ['JSON in another charset', 'application/json; charset=latin1'],
  ])('%s → 415 naming Content-Type', async (_name, contentType) => {
    const response = await api.request('POST', '/videos', {
      rawBody: JSON.stringify(VALID),
      headers: { 'Content-Type': contentType },
    });
    expectRefused(response, 415, 'UnsupportedMediaType', 'Content-Type', /application\/json/);
  });

  it('no Content-Type → 415', async () => {
    const response = await fetch(`${api.url}/videos`, {
      method: 'POST',
      body: new Blob([JSON.stringify(VALID)]),
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UnsupportedMediaType');
    expect(started()).toEqual(before);
  });

  it('accepts application/json with a UTF-8 charset, in any case', async () => {
    const response = await api.request('POST', '/videos', {
      rawBody: JSON.stringify({ ...VALID, prompt: 'a fox, tab\tand\nnewline are fine' }),
      headers: { 'Content-Type': 'Application/JSON; charset="UTF-8"' },
    });
    expect(response.status, response.text).toBe(202);
  });
});

describe('a prompt is text', () => {
  it.each([
    ['NUL', 'a fox\u0000'],
    ['ESC (a terminal escape)', 'a fox \u001b[31mred'],
    ['carriage return', 'a fox\r\nin snow'],
    ['DEL', 'a fox\u007f'],
    ['a C1 control', 'a fox\u0085'],
  ])('%s → 400 naming prompt', async (_name, prompt) => {
    expectRefused(
      await api.create({ ...VALID, prompt }),
      400,
      'ValidationError',
      'prompt',
      /control characters/,
    );
  });

  it.each([
    ['a lone high surrogate', '{"prompt":"a fox \\ud83e"}'],
    ['a lone low surrogate', '{"prompt":"\\udd8a a fox"}'],
    ['surrogates in the wrong order', '{"prompt":"a fox \\udd8a\\ud83e"}'],
  ])('%s (JSON escape) → 400 naming prompt', async (_name, rawBody) => {
    const response = await api.request('POST', '/videos', { rawBody });
    expectRefused(response, 400, 'ValidationError', 'prompt', /lone UTF-16 surrogate/);
  });

  it('a surrogate pair (an emoji) is fine', async () => {
    const response = await api.create({ ...VALID, prompt: 'a fox \ud83e\udd8a in snow' });
    expect(response.status, response.text).toBe(202);
  });

  it('bytes that are not UTF-8 → 400 naming the body', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"prompt":"a fox '),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]);
    const response = await fetch(`${api.url}/videos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: bytes,
    });
    const text = await response.text();
    expect(response.status, text).toBe(400);
    const error = (JSON.parse(text) as { error: { fields: { field: string; message: string }[] } }).error;
    expect(error.fields).toEqual([{ field: 'body', message: 'the request body is not valid UTF-8' }]);
    expect(started()).toEqual(before);
  });
});

/** One raw request, so that nothing between the test and the server trims or refuses it first. */
const raw = (path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; contentType: string | undefined; body: string }>((resolve, reject) => {
    const url = new URL(api.url);
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }),
      );
    });
    req.on('error', reject);
    req.end();
  });

describe('what is too large to read still gets a JSON answer', () => {
  it('a 20 KB path → 414 with a JSON error body', async () => {
    const answer = await raw(`/v1/videos/${'a'.repeat(20 * 1024)}`);
    expect(answer.status).toBe(414);
    expect(answer.contentType).toBe('application/json');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'REQUEST_URI_TOO_LONG' } });
  });

  it('20 KB of headers → 431 with a JSON error body', async () => {
    const answer = await raw('/v1/videos', { 'X-Padding': 'p'.repeat(20 * 1024) });
    expect(answer.status).toBe(431);
    expect(answer.contentType).toBe('application/json');
    expect(JSON.parse(answer.body)).toMatchObject({
      error: {
        code: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
        message: expect.stringContaining(String(MAX_HEADER_BYTES)),
      },
    });
  });

  it('the server still answers afterwards', async () => {
    expect((await api.list()).status).toBe(200);
  });
});
