// A permanent fuzz of the API's edge: 10,000 generated requests that each break the contract somewhere —
// the content type, the body (bytes, JSON, shape, every field's rules), the headers, the query, the path —
// through the local API's request chain (route, API key, proxy event, the real handlers on the local
// stack). Most run in process through the same function the HTTP server calls; a sampled share goes over
// real HTTP. Every answer must be a 4xx JSON error that says what was wrong (and names the field where
// there is one); none may be a 5xx; no execution may start and no job record be written.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '#commons/aws-clients';
import { ENV } from '#commons/env';
import { JOB_STATUSES } from '#domain/video-job';
import { MAX_PROMPT_LENGTH } from '#domain/video-request';
import { type ApiAnswer, localApiHandlers, localApiRequests, type RawApiRequest } from '#local/api-server';
import { type ApiStack, startApiStack, startCounters } from '#test/api-e2e/support/api-stack';

/** Generated requests in all, and how many of them also go over real HTTP. */
const IN_PROCESS_RUNS = 10_000;
const HTTP_RUNS = 300;

let env: ApiStack;
let inProcess: (request: RawApiRequest) => Promise<ApiAnswer>;

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  inProcess = localApiRequests({
    handlers: await localApiHandlers({ workflow: env.stack.workflow, events: env.stack.events }),
  });
});
afterAll(() => env?.stop());

const recordsInTable = async (): Promise<number> => {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoDocumentClient().send(
      new ScanCommand({
        TableName: process.env[ENV.jobsTable],
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
};

// ---- what breaks the contract ----

const VALID = {
  prompt: 'a red fox running through snow',
  duration: 6,
  resolution: '1080p',
  generateAudio: true,
};
const JSON_TYPE = 'application/json';

/** Strings with something a prompt may not hold. */
const badPrompt = fc.oneof(
  fc.constantFrom('', ' ', '\n\t ', 'x'.repeat(MAX_PROMPT_LENGTH + 1)),
  fc
    .tuple(
      fc.string({ maxLength: 20 }),
      fc.integer({ min: 0, max: 0x9f }).filter((c) => c !== 0x09 && c !== 0x0a && (c < 0x20 || c >= 0x7f)),
      fc.string({ maxLength: 20 }),
    )
    // Between letters: a trailing \v or \r would be trimmed away as whitespace, which is allowed.
    .map(([a, c, b]) => `${a}x${String.fromCharCode(c)}y${b}`),
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.integer({ min: 0xd800, max: 0xdfff }))
    .map(([a, s]) => `x${a}${String.fromCharCode(s)}`),
  fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.object(),
  ),
);

const notOneOf = <T>(allowed: readonly T[], arb: fc.Arbitrary<unknown>) =>
  arb.filter((v) => !allowed.includes(v as T));

/** A body object that breaks at least one rule, with the field at fault. */
const badBody: fc.Arbitrary<{ body: unknown; field: string }> = fc.oneof(
  badPrompt.map((prompt) => ({ body: { ...VALID, prompt }, field: 'prompt' })),
  notOneOf([6, 8, 10], fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null))).map(
    (duration) => ({
      body: { ...VALID, duration },
      field: 'duration',
    }),
  ),
  notOneOf(['1080p', '2k', '4k'], fc.oneof(fc.string(), fc.integer(), fc.constant('1080P'))).map(
    (resolution) => ({
      body: { ...VALID, resolution },
      field: 'resolution',
    }),
  ),
  fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant('true')).map((generateAudio) => ({
    body: { ...VALID, generateAudio },
    field: 'generateAudio',
  })),
  fc
    .oneof(
      fc.string({ maxLength: 30 }).filter((s) => !/^https?:\/\//i.test(s)),
      fc.constantFrom(
        'ftp://example.com/a.png',
        'file:///etc/passwd',
        'javascript:alert(1)',
        'http://169.254.169.254/latest/meta-data/',
        'http://127.0.0.1:8080/a.png',
        'http://[::1]/a.png',
        'https://user:pass@example.com/a.png',
        'http://2130706433/a.png',
        'https://10.0.0.1/a.png',
      ),
      fc.integer(),
    )
    .map((imageUrl) => ({ body: { ...VALID, imageUrl }, field: 'imageUrl' })),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !(k in VALID) && k !== 'imageUrl' && k !== '__proto__')
    .map((key) => ({ body: { ...VALID, [key]: 1 }, field: key })),
  fc.constant({ body: { duration: 6 }, field: 'prompt' }),
  fc
    .oneof(fc.array(fc.anything(), { maxLength: 3 }), fc.string(), fc.integer(), fc.constant(null))
    .map((body) => ({
      body,
      field: 'body',
    })),
);

type Case = { method: string; url: string; headers: Record<string, string>; body: Buffer; expect: string[] };

const post = (body: Buffer, headers: Record<string, string>, expected: string[]): Case => ({
  method: 'POST',
  url: '/v1/videos',
  headers,
  body,
  expect: expected,
});

/** Content types that are not JSON (or JSON in another charset). */
const wrongContentType = fc.oneof(
  fc.constantFrom(
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
    'application/json; charset=latin1',
    'application/json-patch+json',
    'application/xml',
    'application/octet-stream',
    'json',
    '*/*',
  ),
  fc
    .string({ maxLength: 40 })
    .filter((s) => !/^\s*application\/json\s*(;|$)/i.test(s) && /^[\x20-\x7e]*$/.test(s)),
);

const cases: fc.Arbitrary<Case> = fc.oneof(
  // The body is fine; the content type is not.
  fc
    .tuple(wrongContentType, fc.boolean())
    .map(([type, valid]) =>
      post(
        Buffer.from(JSON.stringify(valid ? VALID : { nope: 1 })),
        type === '' ? {} : { 'Content-Type': type },
        ['Content-Type'],
      ),
    ),
  // JSON that breaks a rule.
  badBody.map(({ body, field }) =>
    post(Buffer.from(JSON.stringify(body) ?? 'null'), { 'Content-Type': JSON_TYPE }, [field]),
  ),
  // Text that is not JSON, or bytes that are not UTF-8.
  fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 60 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
      fc.constant(JSON.stringify(VALID).slice(0, -1)),
    )
    .map((text) => post(Buffer.from(text), { 'Content-Type': JSON_TYPE }, ['body'])),
  fc
    .uint8Array({ minLength: 1, maxLength: 40 })
    .map((bytes) =>
      Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xff, ...bytes]), Buffer.from('"}')]),
    )
    .map((body) => post(body, { 'Content-Type': JSON_TYPE }, ['body'])),
  // A valid body with a bad Idempotency-Key.
  fc
    .oneof(
      fc
        .string({ minLength: 256, maxLength: 300 })
        .map((s) => `k${s.replace(/[^\x21-\x7e]/g, 'k')}`.padEnd(256, 'k')),
      fc.string({ maxLength: 20 }).map((s) => `a b${s}`),
      fc.constant(''),
    )
    .map((key) =>
      post(Buffer.from(JSON.stringify(VALID)), { 'Content-Type': JSON_TYPE, 'Idempotency-Key': key }, [
        'Idempotency-Key',
      ]),
    ),
  // Bad query parameters.
  fc
    .oneof(
      fc
        .string({ maxLength: 10 })
        .filter((s) => !(JOB_STATUSES as readonly string[]).includes(s))
        .map((status) => ({ q: { status }, field: 'status' })),
      fc
        .oneof(fc.integer({ max: 0 }), fc.integer({ min: 101 }), fc.constantFrom('ten', '2.5', ''))
        .map((limit) => ({ q: { limit: String(limit) }, field: 'limit' })),
      fc
        .string({ minLength: 1, maxLength: 40 })
        .map((cursor) => ({ q: { cursor: `${cursor}!` }, field: 'cursor' })),
      fc.constantFrom('foo', 'order', 'page').map((name) => ({ q: { [name]: '1' }, field: name })),
    )
    .map(({ q, field }) => ({
      method: 'GET',
      url: `/v1/videos?${new URLSearchParams(q).toString()}`,
      headers: {},
      body: Buffer.alloc(0),
      expect: [field],
    })),
  // Bad or unknown job ids, paths and methods.
  fc
    .tuple(
      fc.constantFrom('GET', 'DELETE'),
      fc.oneof(
        fc
          .string({ minLength: 1, maxLength: 30 })
          // '.' and '..' are path segments a client resolves before sending, not ids.
          .filter((s) => !/^[A-Za-z0-9_-]{1,80}$/.test(s) && s !== '.' && s !== '..')
          .map((id) => ({ id, field: 'jobId' })),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/).map((id) => ({ id: `nope-${id}`, field: '' })),
        fc.constant({ id: 'x'.repeat(81), field: 'jobId' }),
      ),
    )
    .map(([method, { id, field }]) => ({
      method,
      url: `/v1/videos/${encodeURIComponent(id)}`,
      headers: {},
      body: Buffer.alloc(0),
      expect: field === '' ? [] : [field],
    })),
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
      fc.stringMatching(/^[a-z0-9/._-]{0,30}$/),
    )
    .filter(
      ([method, path]) =>
        !['/videos', '/videos/'].includes(`/${path}`) &&
        !(
          path.startsWith('videos/') &&
          path.split('/').length === 2 &&
          (method === 'GET' || method === 'DELETE')
        ),
    )
    .map(([method, path]) => ({
      method,
      url: `/v1/${path}x`,
      headers: {},
      body: Buffer.alloc(0),
      expect: [],
    })),
  // A method the path does not have.
  fc
    .tuple(fc.constantFrom('PUT', 'PATCH', 'OPTIONS'), fc.constantFrom('/v1/videos', '/v1/videos/job-1'))
    .map(([method, url]) => ({ method, url, headers: {}, body: Buffer.alloc(0), expect: [] })),
);

// ---- the checks ----

interface Tally {
  runs: number;
  byStatus: Record<string, number>;
}

const check = (
  c: Case,
  status: number,
  contentType: string | undefined,
  text: string,
  tally: Tally,
): void => {
  tally.runs += 1;
  tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
  const where = `${c.method} ${c.url.slice(0, 120)} ${JSON.stringify(c.headers).slice(0, 120)} → ${status} ${text.slice(0, 300)}`;
  expect(status >= 400 && status < 500, where).toBe(true);
  expect(contentType ?? '', where).toMatch(/^application\/json/);
  const error = (
    JSON.parse(text) as { error?: { code?: unknown; message?: unknown; fields?: { field: string }[] } }
  ).error;
  expect(typeof error?.code, where).toBe('string');
  expect(typeof error?.message === 'string' && error.message.length > 0, where).toBe(true);
  if (c.expect.length > 0 && status !== 404 && status !== 405) {
    expect(
      error?.fields?.map((f) => f.field),
      where,
    ).toEqual(expect.arrayContaining(c.expect));
  }
};

const rawHeadersOf = (headers: Record<string, string>): string[] => Object.entries(headers).flat();

describe('fuzz: nothing outside the contract gets in', () => {
  it(`${IN_PROCESS_RUNS} generated requests in process and ${HTTP_RUNS} over HTTP: all 4xx JSON errors, nothing started`, async () => {
    const before = { ...startCounters(env.stack), records: await recordsInTable() };
    const started = Date.now();
    const local: Tally = { runs: 0, byStatus: {} };
    const http: Tally = { runs: 0, byStatus: {} };

    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const answer = await inProcess({
          method: c.method,
          url: c.url,
          rawHeaders: rawHeadersOf(c.headers),
          body: c.body,
        });
        const type = answer.headers['Content-Type'] ?? answer.headers['content-type'];
        check(c, answer.status, Array.isArray(type) ? type[0] : type, answer.body.toString('utf8'), local);
      }),
      { numRuns: IN_PROCESS_RUNS, seed: 20261206 },
    );

    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const response = await fetch(`${env.api.url.replace(/\/v1$/, '')}${c.url}`, {
          method: c.method,
          headers: c.headers,
          ...(c.body.length === 0 ? {} : { body: c.body }),
        });
        check(
          c,
          response.status,
          response.headers.get('content-type') ?? undefined,
          await response.text(),
          http,
        );
      }),
      { numRuns: HTTP_RUNS, seed: 6122026 },
    );

    const after = { ...startCounters(env.stack), records: await recordsInTable() };
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `fuzz: ${local.runs} in process + ${http.runs} over HTTP in ${seconds.toFixed(1)} s; ` +
        `answers ${JSON.stringify({ ...local.byStatus })} / ${JSON.stringify({ ...http.byStatus })}; ` +
        `executions +${after.executions - before.executions}, records +${after.records - before.records}, ` +
        `puts +${after.recordsPut - before.recordsPut}, Segmind submits +${after.segmindSubmits - before.segmindSubmits}`,
    );
    expect(local.runs).toBe(IN_PROCESS_RUNS);
    expect(http.runs).toBe(HTTP_RUNS);
    expect(Object.keys({ ...local.byStatus, ...http.byStatus }).filter((s) => Number(s) >= 500)).toEqual([]);
    expect(after).toEqual(before);
  }, 180_000);
});
