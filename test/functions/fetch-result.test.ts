// The FetchResult Lambda end to end on the local stack: real handler, real job store on dynalite, real
// Segmind client against a loopback stand-in.

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import type { FetchedResult } from '#domain/video-job';
import { type StubServer, startStub } from '#test/segmind/support/stub-server';
import { stubHandlerEnv } from '#test/support/handler-env';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

let table: JobsTable;
let segmind: StubServer;
const script: { status: number; body: unknown }[] = [];
let handler: (event: unknown, context: Context) => Promise<FetchedResult>;

beforeAll(async () => {
  table = await startJobsTable();
  segmind = await startStub((_request, response) => {
    const next = script.shift() ?? { status: 500, body: { error: 'no scripted answer' } };
    response.writeHead(next.status, { 'content-type': 'application/json' });
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
    payload: { jobId, segmind: { requestId, responseUrl: `${segmind.url}/v2/requests/${requestId}` } },
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

  it('throws SegmindJobFailedError for a FAILED result and ResultNotReadyError for one still running', async () => {
    const { requestId, payload } = await arrange();
    script.push({
      status: 422,
      body: { status: 'FAILED', error: 'blocked by the content filter', request_id: requestId, metrics: {} },
    });
    const failed = await failureOf(handler(payload, context));
    expect(failed?.name).toBe('SegmindJobFailedError');
    expect(failed?.message).toContain('blocked by the content filter');

    script.push({ status: 200, body: { status: 'PROCESSING', request_id: requestId, metrics: {} } });
    expect((await failureOf(handler(payload, context)))?.name).toBe('ResultNotReadyError');
  });

  it('refuses a payload without the response URL', async () => {
    const error = await failureOf(handler({ jobId: 'fetch-x', segmind: { requestId: 'r' } }, context));
    expect(error?.name).toBe('InvalidPayloadError');
    expect(error?.message).toMatch(/responseUrl/);
  });
});
