// Every input rule of the API, over real HTTP on the local stack: each refused request is a 4xx whose body
// names the field at fault, and nothing was started — no job record, no execution, no Segmind submit.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PAGE_SIZE } from '#domain/list-jobs';
import { MAX_PROMPT_LENGTH } from '#domain/video-request';
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
let before: ReturnType<typeof startCounters>;

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  api = env.client;
});
afterAll(() => env?.stop());

beforeEach(() => {
  before = startCounters(env.stack);
});

const VALID = { prompt: 'a red fox running through snow', ...SMALL_JOB };

/** A 4xx naming `field` (in `fields` and in the message), and nothing started. */
const expectRefused = (response: ApiResponse, field: string, message: RegExp, status = 400): void => {
  expect(response.status, response.text).toBe(status);
  const error = errorOf(response);
  expect(error.code).toBe('ValidationError');
  expect(error.fields?.map((f) => f.field)).toContain(field);
  expect(error.fields?.find((f) => f.field === field)?.message).toMatch(message);
  expect(error.message).toMatch(message);
  expect(error.requestId).toBe(response.headers.get('x-amzn-requestid'));
  expect(startCounters(env.stack)).toEqual(before);
};

describe('POST /videos refuses, naming the field, and starts nothing', () => {
  const cases: { rule: string; body: unknown; field: string; message: RegExp }[] = [
    { rule: 'prompt missing', body: { resolution: '1080p' }, field: 'prompt', message: /prompt is required/ },
    {
      rule: 'prompt empty',
      body: { ...VALID, prompt: '' },
      field: 'prompt',
      message: /prompt must not be empty/,
    },
    {
      rule: 'prompt only whitespace',
      body: { ...VALID, prompt: ' \n\t ' },
      field: 'prompt',
      message: /prompt must not be empty/,
    },
    {
      rule: 'prompt too long',
      body: { ...VALID, prompt: 'x'.repeat(MAX_PROMPT_LENGTH + 1) },
      field: 'prompt',
      message: new RegExp(`prompt must be at most ${MAX_PROMPT_LENGTH} characters`),
    },
    {
      rule: 'prompt not a string',
      body: { ...VALID, prompt: 42 },
      field: 'prompt',
      message: /prompt must be a string/,
    },
    {
      rule: 'duration not offered',
      body: { ...VALID, duration: 7 },
      field: 'duration',
      message: /duration must be one of 6, 8, 10/,
    },
    {
      rule: 'duration as text',
      body: { ...VALID, duration: '8' },
      field: 'duration',
      message: /duration must be one of/,
    },
    {
      rule: 'resolution not offered',
      body: { ...VALID, resolution: '720p' },
      field: 'resolution',
      message: /resolution must be one of 1080p, 2k, 4k/,
    },
    {
      rule: 'generateAudio not a boolean',
      body: { ...VALID, generateAudio: 'yes' },
      field: 'generateAudio',
      message: /generateAudio must be true or false/,
    },
    {
      rule: 'imageUrl not a URL',
      body: { ...VALID, imageUrl: 'not a url' },
      field: 'imageUrl',
      message: /imageUrl must be an http\(s\) URL/,
    },
    {
      rule: 'imageUrl not http(s)',
      body: { ...VALID, imageUrl: 'ftp://example.com/cat.png' },
      field: 'imageUrl',
      message: /imageUrl must be an http\(s\) URL/,
    },
    {
      rule: 'unknown field',
      body: { ...VALID, seed: 7 },
      field: 'seed',
      message:
        /seed is not a known field; expected one of prompt, duration, resolution, generateAudio, imageUrl/,
    },
    {
      rule: 'body not an object',
      body: ['a red fox'],
      field: 'body',
      message: /the body must be a JSON object/,
    },
  ];

  it.each(cases)('$rule → 400 naming $field', async ({ body, field, message }) => {
    expectRefused(await api.create(body), field, message);
  });

  it('bad JSON → 400 naming the body', async () => {
    const response = await api.request('POST', '/videos', { rawBody: '{"prompt": "a fox",' });
    expectRefused(response, 'body', /the request body is not valid JSON/);
  });

  it('no body → 400 naming the body', async () => {
    expectRefused(await api.request('POST', '/videos'), 'body', /the request body must be a JSON object/);
  });

  it('several problems → every field named at once', async () => {
    const response = await api.create({ prompt: '', duration: 7, resolution: '8k' });
    expectRefused(response, 'prompt', /prompt must not be empty/);
    expect(
      errorOf(response)
        .fields?.map((f) => f.field)
        .sort(),
    ).toEqual(['duration', 'prompt', 'resolution']);
  });

  it.each([
    ['too long', 'k'.repeat(256)],
    ['with a space', 'my key'],
  ])('an Idempotency-Key %s → 400 naming the header', async (_, key) => {
    const response = await api.create(VALID, { 'Idempotency-Key': key });
    expectRefused(response, 'Idempotency-Key', /Idempotency-Key must be 1 to 255 visible ASCII characters/);
  });
});

describe('GET /videos refuses bad query parameters, naming them', () => {
  const limitRule = new RegExp(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  it.each([
    ['limit 0', { limit: '0' }, 'limit', limitRule],
    ['limit above the maximum', { limit: String(MAX_PAGE_SIZE + 1) }, 'limit', limitRule],
    ['limit not a number', { limit: 'ten' }, 'limit', limitRule],
    ['limit a fraction', { limit: '1.5' }, 'limit', limitRule],
    ['an unknown status', { status: 'DONE' }, 'status', /status must be one of PENDING, QUEUED/],
    ['a cursor it never issued', { cursor: 'not-a-cursor' }, 'cursor', /cursor is not one this API issued/],
    ['an empty cursor', { cursor: '' }, 'cursor', /cursor must not be empty/],
    ['an unknown parameter', { page: '2' }, 'page', /page is not a known query parameter/],
  ])('%s → 400 naming it', async (_, query, field, message) => {
    expectRefused(await api.list(query), field, message);
  });

  it('a cursor issued for another status filter → 400 naming the cursor', async () => {
    for (let i = 0; i < 2; i += 1)
      expect((await api.create({ ...VALID, prompt: `list ${i}` })).status).toBe(202);
    const first = await api.list({ limit: '1' });
    const cursor = first.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    // The two jobs finish first (their submits may wait a slot of the request budget): only then does
    // an unchanged count prove the refused list started nothing.
    await env.stack.workflow.idle();
    before = startCounters(env.stack);
    expectRefused(await api.list({ status: 'COMPLETED', cursor: String(cursor) }), 'cursor', /cursor/);
  });
});

describe('/videos/{jobId}', () => {
  it.each([
    ['GET', 'a dot', 'job.1'],
    ['GET', 'too long', 'j'.repeat(81)],
    ['DELETE', 'a dot', 'job.1'],
  ])('%s with a job id containing %s → 400 naming jobId', async (method, _, jobId) => {
    const response = await api.request(method, `/videos/${jobId}`);
    expectRefused(response, 'jobId', /jobId must be 1 to 80 letters, digits, hyphens or underscores/);
  });

  it.each(['GET', 'DELETE'])('%s of a job that does not exist → 404 naming it', async (method) => {
    const response = await api.request(method, '/videos/no-such-job');
    expect(response.status).toBe(404);
    expect(errorOf(response)).toMatchObject({ code: 'NotFound', message: 'there is no job no-such-job' });
    expect(startCounters(env.stack)).toEqual(before);
  });
});

describe('the gateway in front of the handlers', () => {
  it('answers 404 for a path no route serves, and 405 with Allow for a method a path lacks', async () => {
    const missing = await api.request('GET', '/movies');
    expect(missing.status).toBe(404);
    expect(errorOf(missing).message).toContain('POST /v1/videos');

    const wrongMethod = await api.request('PUT', '/videos/some-job');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, DELETE');
    expect(startCounters(env.stack)).toEqual(before);
  });

  it('refuses a body over API Gateway’s 10 MB limit with 413, before any handler runs', async () => {
    const response = await api.request('POST', '/videos', {
      rawBody: JSON.stringify({ prompt: 'x'.repeat(10 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(startCounters(env.stack)).toEqual(before);
  });
});
