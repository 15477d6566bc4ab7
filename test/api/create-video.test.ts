// POST /videos through the real middy handler, with DynamoDB and Step Functions behind aws-sdk-client-mock.

import type { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_PROMPT_LENGTH } from '#domain/video-request';
import {
  ALLOWED_ORIGIN,
  type ApiHandler,
  apiEvent,
  type EventOptions,
  fieldsOf,
  invoke,
  STATE_MACHINE_ARN,
  stubApiEnvironment,
} from '#test/api/support/api-events';
import { fakeJobsTable } from '#test/api/support/fake-jobs-table';

// The image host check resolves names: the tests' public example host resolves to a public address.
vi.mock('node:dns/promises', async (original) => ({
  ...(await original<typeof import('node:dns/promises')>()),
  lookup: async () => [{ address: '93.184.216.34', family: 4 }],
}));

const table = fakeJobsTable();
const sfn = mockClient(SFNClient);
let handler: ApiHandler;
let logger: Logger;

beforeAll(async () => {
  // Before the first import of the handler and of Powertools: both read the environment at start-up.
  stubApiEnvironment();
  ({ handler } = await import('#functions/api/create-video'));
  ({ logger } = await import('#commons/powertools'));
});
afterAll(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});
beforeEach(() => {
  table.reset();
  sfn.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
});

const post = (body: unknown, options: Partial<EventOptions> = {}) =>
  invoke(handler, apiEvent({ method: 'POST', resource: '/videos', path: '/videos', body, ...options }));

const withKey = (key: string, extra: Partial<EventOptions> = {}): Partial<EventOptions> => ({
  ...extra,
  headers: { 'Idempotency-Key': key, ...extra.headers },
});

describe('POST /videos', () => {
  it('creates the job, starts its execution and answers 202 with where to poll', async () => {
    const result = await post({ prompt: '  A red fox in the snow  ' });

    expect(result.statusCode).toBe(202);
    const jobId = String(result.body.jobId);
    expect(result.body).toEqual({ jobId, status: 'PENDING', links: { self: `/v1/videos/${jobId}` } });
    expect(result.headers.Location).toBe(`/v1/videos/${jobId}`);

    const stored = table.get(jobId);
    expect(stored).toMatchObject({
      status: 'PENDING',
      source: 'api',
      request: { prompt: 'A red fox in the snow', duration: 8, resolution: '2k', generateAudio: true },
    });
    expect(stored?.requestHash).toMatch(/^sha256:/);

    const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toEqual([
      {
        stateMachineArn: STATE_MACHINE_ARN,
        name: jobId,
        input: JSON.stringify({ jobId, request: stored?.request }),
      },
    ]);
  });

  it('accepts every option, and a body API Gateway passed base64-encoded', async () => {
    const body = {
      prompt: 'A lighthouse',
      duration: 10,
      resolution: '4k',
      generateAudio: false,
      imageUrl: 'https://example.com/a.png',
    };
    const event = apiEvent({
      method: 'POST',
      resource: '/videos',
      path: '/videos',
      rawBody: Buffer.from(JSON.stringify(body)).toString('base64'),
    });
    const encoded = await invoke(handler, { ...event, isBase64Encoded: true });
    expect(encoded.statusCode).toBe(202);
    expect(table.get(String(encoded.body.jobId))?.request).toEqual(body);
  });

  describe('refuses every broken rule with a 400 naming the field, and starts nothing', () => {
    const long = 'x'.repeat(MAX_PROMPT_LENGTH + 1);
    it.each([
      ['prompt missing', {}, 'prompt', /prompt is required/],
      ['prompt not a string', { prompt: 42 }, 'prompt', /prompt must be a string/],
      ['prompt empty', { prompt: '' }, 'prompt', /prompt must not be empty/],
      ['prompt only whitespace', { prompt: '   ' }, 'prompt', /prompt must not be empty/],
      ['prompt too long', { prompt: long }, 'prompt', /at most 5000 characters/],
      ['duration not allowed', { prompt: 'p', duration: 7 }, 'duration', /one of 6, 8, 10/],
      ['duration as text', { prompt: 'p', duration: '8' }, 'duration', /one of 6, 8, 10/],
      ['resolution unknown', { prompt: 'p', resolution: '8k' }, 'resolution', /one of 1080p, 2k, 4k/],
      ['generateAudio not boolean', { prompt: 'p', generateAudio: 'yes' }, 'generateAudio', /true or false/],
      ['imageUrl not a URL', { prompt: 'p', imageUrl: 'not a url' }, 'imageUrl', /http\(s\) URL/],
      [
        'imageUrl not http(s)',
        { prompt: 'p', imageUrl: 'ftp://example.com/a.png' },
        'imageUrl',
        /http\(s\) URL/,
      ],
      [
        'unknown field',
        { prompt: 'p', seed: 7 },
        'seed',
        /seed is not a known field; expected one of prompt/,
      ],
      ['body an array', [], 'body', /must be a JSON object/],
      ['body null', null, 'body', /must be a JSON object/],
    ])('%s', async (_rule, body, field, message) => {
      const result = await post(body);

      expect(result.statusCode).toBe(400);
      expect(result.body.error).toMatchObject({ code: 'ValidationError' });
      expect(fieldsOf(result)).toEqual([field]);
      expect(result.raw).toMatch(message);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(table.mock.commandCalls(PutCommand)).toHaveLength(0);
    });

    it('body that is not JSON', async () => {
      const result = await post(undefined, { rawBody: '{"prompt": ' });
      expect(result.statusCode).toBe(400);
      expect(fieldsOf(result)).toEqual(['body']);
      expect(result.raw).toMatch(/not valid JSON/);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it('no body at all', async () => {
      const result = await post(undefined);
      expect(result.statusCode).toBe(400);
      expect(fieldsOf(result)).toEqual(['body']);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it('every problem of a body at once', async () => {
      const result = await post({ prompt: '', duration: 5, resolution: 'tiny' });
      expect(fieldsOf(result).sort()).toEqual(['duration', 'prompt', 'resolution']);
    });

    it.each([
      ['too long', 'k'.repeat(256)],
      ['not visible ASCII', 'clé'],
    ])('Idempotency-Key %s', async (_rule, key) => {
      const result = await post({ prompt: 'p' }, withKey(key));
      expect(result.statusCode).toBe(400);
      expect(fieldsOf(result)).toEqual(['Idempotency-Key']);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the same job for a repeat and starts one execution', async () => {
      const first = await post({ prompt: 'a fox' }, withKey('order-1'));
      table.put({ ...(table.get(String(first.body.jobId)) ?? ({} as never)), status: 'PROCESSING' });

      // Header names arrive in any case; a body that spells out the defaults is the same request.
      const again = await post(
        { prompt: 'a fox', duration: 8, resolution: '2k' },
        { headers: { 'idempotency-key': 'order-1' } },
      );

      expect(again.statusCode).toBe(202);
      expect(again.body).toEqual({ ...first.body, status: 'PROCESSING' });
      expect(again.headers['Idempotent-Replayed']).toBe('true');
      expect(first.headers['Idempotent-Replayed']).toBeUndefined();
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    });

    it('refuses the same key with a different body: 422, the header named, nothing started', async () => {
      const first = await post({ prompt: 'a fox' }, withKey('order-2'));

      const reused = await post({ prompt: 'a cat' }, withKey('order-2'));

      expect(reused.statusCode).toBe(422);
      expect(reused.body.error).toMatchObject({ code: 'IdempotencyKeyReused' });
      expect(fieldsOf(reused)).toEqual(['Idempotency-Key']);
      expect(reused.raw).toContain(String(first.body.jobId));
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    });

    it('scopes keys to the caller', async () => {
      const alice = await post(
        { prompt: 'a fox' },
        withKey('shared', { userArn: 'arn:aws:iam::1:user/alice' }),
      );
      const bob = await post({ prompt: 'a fox' }, withKey('shared', { userArn: 'arn:aws:iam::1:user/bob' }));
      expect(alice.body.jobId).not.toBe(bob.body.jobId);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
    });

    it('gives a new job to each call without a key', async () => {
      const a = await post({ prompt: 'a fox' });
      const b = await post({ prompt: 'a fox' });
      expect(a.body.jobId).not.toBe(b.body.jobId);
    });

    it('still answers 202 when the execution already exists', async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
      const result = await post({ prompt: 'a fox' }, withKey('order-3'));
      expect(result.statusCode).toBe(202);
    });
  });

  describe('internal failures', () => {
    it('answer a generic 500 with the request id, the detail only in the log, and end the job FAILED', async () => {
      const errorLog = vi.spyOn(logger, 'error');
      sfn.on(StartExecutionCommand).rejects(
        Object.assign(new Error('User arn:aws:sts::123456789012:assumed-role/x is not authorized'), {
          name: 'AccessDeniedException',
        }),
      );

      const result = await post({ prompt: 'a fox' }, { requestId: 'req-boom' });

      expect(result.statusCode).toBe(500);
      expect(result.body).toEqual({
        error: {
          code: 'InternalError',
          message: expect.stringContaining('req-boom'),
          requestId: 'req-boom',
        },
      });
      expect(result.raw).not.toMatch(/arn:aws|AccessDenied|at .*\.ts|stack/i);
      expect(errorLog).toHaveBeenCalledWith(
        'Request failed',
        expect.objectContaining({ requestId: 'req-boom' }),
      );

      expect(table.mock.commandCalls(UpdateCommand)).toHaveLength(1);
      const [failed] = [...table.items.values()];
      expect(failed).toMatchObject({ status: 'FAILED', errorCode: 'WorkflowStartError' });
    });

    it('answer 500 when DynamoDB fails, without starting anything', async () => {
      table.mock.on(PutCommand).rejects(new Error('ProvisionedThroughputExceededException'));
      const result = await post({ prompt: 'a fox' });
      expect(result.statusCode).toBe(500);
      expect(result.raw).not.toContain('Provisioned');
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });
  });

  describe('CORS', () => {
    it('echoes an allowed origin, on success and on errors', async () => {
      const ok = await post({ prompt: 'a fox' }, { headers: { Origin: ALLOWED_ORIGIN } });
      const bad = await post({}, { headers: { origin: ALLOWED_ORIGIN } });
      expect(ok.headers['Access-Control-Allow-Origin']).toBe(ALLOWED_ORIGIN);
      expect(bad.headers['Access-Control-Allow-Origin']).toBe(ALLOWED_ORIGIN);
    });

    it('says nothing to another origin', async () => {
      const result = await post({ prompt: 'a fox' }, { headers: { Origin: 'https://evil.example' } });
      expect(result.headers['Access-Control-Allow-Origin']).toBeUndefined();
    });
  });
});
