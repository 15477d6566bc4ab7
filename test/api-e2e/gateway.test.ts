// The local API server's API Gateway part, with stand-in handlers: the REST proxy event a request becomes,
// how the handler's answer is written back, and what the gateway itself answers when a handler fails.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiLambda, type ApiLambdas, type LocalApi, startLocalApi } from '#local/api-server';

const servers: LocalApi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const ok = (body: unknown = {}): APIGatewayProxyResult => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/** Every route answers with `lambda`; the events it got are kept. */
const start = async (
  lambda: ApiLambda,
  options: Omit<Parameters<typeof startLocalApi>[0], 'handlers'> = {},
): Promise<{ api: LocalApi; events: APIGatewayProxyEvent[] }> => {
  const events: APIGatewayProxyEvent[] = [];
  const recording: ApiLambda = (event, context) => {
    events.push(event);
    return lambda(event, context);
  };
  const handlers: ApiLambdas = {
    createVideo: recording,
    listVideos: recording,
    getVideo: recording,
    cancelVideo: recording,
  };
  const api = await startLocalApi({ handlers, ...options });
  servers.push(api);
  return { api, events };
};

describe('the local API server', () => {
  it('listens on 127.0.0.1 under the stage, like the deployed URL', async () => {
    const { api } = await start(async () => ok());
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(new URL(api.url).port).toBe(String(api.port));
  });

  it('turns a POST into the REST proxy event API Gateway would send', async () => {
    const { api, events } = await start(async () => ok());
    const response = await fetch(`${api.url}/videos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-1', 'User-Agent': 'curl/8.0' },
      body: '{"prompt":"a fox"}',
    });
    expect(response.status).toBe(200);
    const [event] = events;
    expect(event).toMatchObject({
      httpMethod: 'POST',
      resource: '/videos',
      path: '/videos',
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      body: '{"prompt":"a fox"}',
      isBase64Encoded: false,
      headers: expect.objectContaining({ 'Idempotency-Key': 'key-1', 'Content-Type': 'application/json' }),
      multiValueHeaders: expect.objectContaining({ 'Idempotency-Key': ['key-1'] }),
      requestContext: {
        httpMethod: 'POST',
        path: '/v1/videos',
        stage: 'v1',
        resourcePath: '/videos',
        requestId: response.headers.get('x-amzn-requestid'),
        identity: expect.objectContaining({ sourceIp: '127.0.0.1', userAgent: 'curl/8.0', userArn: null }),
      },
    });
  });

  it('passes path parameters decoded, the path as sent, and every query value (the last one singly)', async () => {
    const { api, events } = await start(async () => ok());
    await fetch(`${api.url}/videos/job%2D1?limit=2&limit=3&status=QUEUED`);
    await fetch(`${api.url}/videos?cursor=a%2Bb`);
    expect(events[0]).toMatchObject({
      httpMethod: 'GET',
      resource: '/videos/{jobId}',
      // As REST APIs deliver them: the path still percent-encoded, the parameter decoded.
      path: '/videos/job%2D1',
      pathParameters: { jobId: 'job-1' },
      queryStringParameters: { limit: '3', status: 'QUEUED' },
      multiValueQueryStringParameters: { limit: ['2', '3'], status: ['QUEUED'] },
      body: null,
    });
    expect(events[1]?.queryStringParameters).toEqual({ cursor: 'a+b' });
  });

  it("writes back the handler's status, headers (multi-value too) and body", async () => {
    const { api } = await start(async () => ({
      statusCode: 202,
      headers: { 'Content-Type': 'text/plain', Location: '/v1/videos/j' },
      multiValueHeaders: { 'X-Seen': ['a', 'b'] },
      body: Buffer.from('accepted').toString('base64'),
      isBase64Encoded: true,
    }));
    const response = await fetch(`${api.url}/videos`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/v1/videos/j');
    expect(response.headers.get('x-seen')).toBe('a, b');
    expect(await response.text()).toBe('accepted');
  });

  it('answers 502 with nothing of the error when a handler throws or answers no proxy result', async () => {
    const failures: unknown[] = [];
    const onIntegrationError = (error: unknown) => failures.push(error);
    const throwing = await start(
      async () => {
        throw new Error('secret detail');
      },
      { onIntegrationError },
    );
    const malformed = await start(async () => ({ body: 'no status' }) as unknown as APIGatewayProxyResult, {
      onIntegrationError,
    });
    for (const { api } of [throwing, malformed]) {
      const response = await fetch(`${api.url}/videos`);
      expect(response.status).toBe(502);
      const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error).toEqual({
        code: 'INTEGRATION_FAILURE',
        message: 'Internal server error',
        requestId: response.headers.get('x-amzn-requestid'),
      });
    }
    expect(failures).toHaveLength(2);
  });

  it('answers 504 when a handler runs past the integration timeout', async () => {
    let release = (): void => undefined;
    const { api } = await start(
      () =>
        new Promise((resolve) => {
          release = () => resolve(ok());
        }),
      { integrationTimeoutMs: 50 },
    );
    const response = await fetch(`${api.url}/videos`);
    release();
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INTEGRATION_TIMEOUT');
  });

  it('answers a CORS preflight for configured origins only', async () => {
    const { api, events } = await start(async () => ok(), { corsAllowOrigins: ['https://app.example.com'] });
    const preflight = (origin: string) =>
      fetch(`${api.url}/videos`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('Idempotency-Key');
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(events).toEqual([]);
  });

  it('refuses paths outside the stage and stops accepting connections once stopped', async () => {
    const { api, events } = await start(async () => ok());
    const outside = await fetch(`${api.url.replace(/\/v1$/, '')}/videos`);
    expect(outside.status).toBe(404);
    expect(events).toEqual([]);
    await api.stop();
    await expect(fetch(`${api.url}/videos`)).rejects.toThrow();
  });
});
