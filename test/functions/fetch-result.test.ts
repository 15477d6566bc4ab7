// The FetchResult Lambda end to end on the local stack: real handler, real job store on dynalite, real
// Segmind client against a loopback stand-in.

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import type { FetchResultOutput } from '#domain/fetch-result';
import { type StubServer, startStub } from '#test/segmind/support/stub-server';
import { stubHandlerEnv } from '#test/support/handler-env';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

let table: JobsTable;
let segmind: StubServer;
const script: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
let handler: (event: unknown, context: Context) => Promise<FetchResultOutput>;

beforeAll(async () => {
  table = await startJobsTable();
  segmind = await startStub((_request, response) => {
    const next = script.shift() ?? { status: 500, body: { error: 'no scripted answer' } };
    response.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
    response.end(JSON.stringify(next.body));
  });
  stubHandlerEnv(table, { [ENV.segmindBaseUrl]: segmind.url, [ENV.segmindApiKey]: 'SG_0123456789abcdef' });
  ({ handler } = await import('#functions/fetch-result'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([table?.close(), segmind?.close()]);
});

const context = { functionName: 'FetchResult', awsRequestId: 'lambda-req-1' } as Context;

let counter = 0;
const arrange = async () => {
  counter += 1;
  const jobId = `fetch-${counter}`;
  const requestId = `req-${counter}`;
  await table.putJob(pendingJob(jobId, { status: 'PROCESSING', segmindRequestId: requestId }));
  return {
    jobId,
    requestId,
    payload: {
      jobId,
      segmind: {
        requestId,
        responseUrl: `${segmind.url}/v2/requests/${requestId}`,
        submittedAt: new Date(Date.now() - 60_000).toISOString(),
      },
    },
  };
};
const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe('FetchResult handler', () => {
  it('returns the video for StoreVideo and keeps the cost and timings on the record', async () => {
    const { jobId, requestId, payload } = await arrange();
    script.push({
      status: 200,
      body: {
        status: 'COMPLETED',
        error: null,
        output: 'https://images.segmind.com/generations/a.mp4',
        video: {
          url: 'https://images.segmind.com/generations/a.mp4',
          content_type: 'video/mp4',
          file_name: 'a.mp4',
          file_size: 18734112,
        },
        metrics: {
          inference_time: 41.2,
          queue_time: 3.1,
          total_time: 44.3,
          cost: 0.52,
          remaining_credits: 118.4,
        },
        request_id: requestId,
      },
    });
    const result = await handler(payload, context);
    expect(segmind.requests.at(-1)?.path).toBe(`/v2/requests/${requestId}`);
    expect(result).toMatchObject({
      videoUrl: 'https://images.segmind.com/generations/a.mp4',
      fileSize: 18734112,
      metrics: { cost: 0.52, inferenceTime: 41.2 },
    });
    const Item = await table.getJob(jobId);
    expect(Item?.metrics).toMatchObject({ cost: 0.52, totalTime: 44.3, remainingCredits: 118.4 });
  });

  it('throws SegmindJobFailedError for a FAILED result and asks to be retried for one still running', async () => {
    const { requestId, payload } = await arrange();
    script.push({
      status: 422,
      body: { status: 'FAILED', error: 'blocked by the content filter', request_id: requestId, metrics: {} },
    });
    const failed = await failureOf(handler(payload, context));
    expect(failed?.name).toBe('SegmindJobFailedError');
    expect(failed?.message).toContain('blocked by the content filter');

    script.push({ status: 200, body: { status: 'PROCESSING', request_id: requestId, metrics: {} } });
    expect(await handler(payload, context)).toMatchObject({ reason: 'result-not-ready', attempt: 1 });
  });

  it('answers a 429 with the time of the rate-limit reset, and a 5xx with a backoff, counting attempts', async () => {
    const { payload } = await arrange();
    const resetAt = new Date(Date.now() + 30_000);
    script.push({
      status: 429,
      body: { error: 'Too many requests' },
      headers: { 'x-rate-limit-reset-at-utc': resetAt.toISOString() },
    });
    const throttled = await handler(payload, context);
    expect(throttled).toMatchObject({ reason: 'rate-limited', attempt: 1 });
    const retryAt = Date.parse((throttled as { retryAt: string }).retryAt);
    // The reset's second (the header may drop milliseconds), plus at most 3 s of jitter.
    expect(retryAt).toBeGreaterThanOrEqual(resetAt.getTime() - 1000);
    expect(retryAt).toBeLessThanOrEqual(resetAt.getTime() + 3000);

    script.push({ status: 502, body: { error: 'bad gateway' } });
    const unavailable = await handler({ ...payload, result: throttled }, context);
    expect(unavailable).toMatchObject({ reason: 'upstream-unavailable', attempt: 2 });
  });

  it('refuses a payload without the response URL', async () => {
    const error = await failureOf(
      handler(
        { jobId: 'fetch-x', segmind: { requestId: 'r', submittedAt: new Date().toISOString() } },
        context,
      ),
    );
    expect(error?.name).toBe('InvalidPayloadError');
    expect(error?.message).toMatch(/responseUrl/);
  });
});
