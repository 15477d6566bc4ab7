import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import type * as Http from '#functions/api/http';
import { apiEvent, stubApiEnvironment } from '#test/api/support/api-events';

let http: typeof Http;
beforeAll(async () => {
  stubApiEnvironment();
  http = await import('#functions/api/http');
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const event = apiEvent({ method: 'GET', resource: '/videos', path: '/videos' });

describe('reading the event', () => {
  it('finds headers whatever their case', () => {
    const withHeader = { ...event, headers: { 'IDEMPOTENCY-KEY': 'k1' } };
    expect(http.headerOf(withHeader, 'Idempotency-Key')).toBe('k1');
    expect(http.headerOf({ ...event, headers: {} }, 'Idempotency-Key')).toBeUndefined();
  });

  it('identifies callers by IAM principal (a role, whatever the session), then API key id', () => {
    const identity = event.requestContext.identity;
    expect(http.callerOf(event)).toEqual({
      kind: 'owner',
      owner: 'iam:arn:aws:iam::123456789012:user/alice',
    });
    const withIdentity = (patch: Partial<typeof identity>) => ({
      ...event,
      requestContext: { ...event.requestContext, identity: { ...identity, ...patch } },
    });
    const role = 'arn:aws:sts::123456789012:assumed-role/VideoClient';
    expect(http.callerOf(withIdentity({ userArn: `${role}/session-1` }))).toEqual(
      http.callerOf(withIdentity({ userArn: `${role}/other-session` })),
    );
    expect(http.callerOf(withIdentity({ userArn: `${role}/session-1` }))).toEqual({
      kind: 'owner',
      owner: `iam:${role}`,
    });
    expect(http.callerOf(withIdentity({ userArn: null, apiKeyId: 'k-1', apiKey: 'secret' }))).toEqual({
      kind: 'owner',
      owner: 'api-key:k-1',
    });
  });

  it('treats a request without identity as the local user only where the API asks for no credentials', () => {
    const none = {
      ...event,
      requestContext: {
        ...event.requestContext,
        identity: { ...event.requestContext.identity, userArn: null },
      },
    };
    const before = process.env[ENV.apiAuth];
    try {
      process.env[ENV.apiAuth] = 'none';
      expect(http.callerOf(none)).toEqual({ kind: 'local-user' });
      expect(http.ownerOf(http.callerOf(none))).toBe(http.LOCAL_USER_OWNER);
      process.env[ENV.apiAuth] = 'iam';
      expect(http.callerOf(none)).toEqual({ kind: 'owner', owner: 'anonymous' });
      delete process.env[ENV.apiAuth];
      expect(http.callerOf(none)).toEqual({ kind: 'owner', owner: 'anonymous' });
    } finally {
      if (before === undefined) delete process.env[ENV.apiAuth];
      else process.env[ENV.apiAuth] = before;
    }
  });

  it('builds links on the path the client called, stage included, without a trailing slash', () => {
    expect(http.requestPathOf(event)).toBe('/v1/videos');
    expect(
      http.requestPathOf({ ...event, requestContext: { ...event.requestContext, path: '/base/videos/' } }),
    ).toBe('/base/videos');
  });
});

describe('error answers', () => {
  it('hide anything unexpected behind a generic 500 that quotes the request id', () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'Item')");
    const result = http.errorResponse(error, 'req-42');
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'InternalError', message: expect.stringContaining('req-42'), requestId: 'req-42' },
    });
    expect(result.body).not.toMatch(/Cannot read|TypeError|\.ts:\d+/);
    expect(result.headers).toMatchObject({
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    });
  });

  it('keep the fields of a validation error', () => {
    const result = http.errorResponse(
      new http.RequestValidationError([{ field: 'prompt', message: 'prompt is required' }]),
      'r',
    );
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.fields).toEqual([
      { field: 'prompt', message: 'prompt is required' },
    ]);
  });
});
