// The PollStatus Lambda end to end on the local stack: real handler, real job store on dynalite, real
// Segmind client against a loopback stand-in that answers each status request from a script.

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import type { PollState } from '#domain/video-job';
import { type StubServer, startStub } from '#test/segmind/support/stub-server';
import { stubHandlerEnv } from '#test/support/handler-env';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { DEFAULT_REQUEST, pendingJob } from '#test/support/workflow-fakes';

let table: JobsTable;
let segmind: StubServer;
const script: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
let handler: (event: unknown, context: Context) => Promise<PollState>;

beforeAll(async () => {
  table = await startJobsTable();
  segmind = await startStub((_request, response) => {
    const next = script.shift() ?? { status: 500, body: { error: 'no scripted answer' } };
    response.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
    response.end(JSON.stringify(next.body));
  });
  stubHandlerEnv(table, { [ENV.segmindBaseUrl]: segmind.url, [ENV.segmindApiKey]: 'SG_0123456789abcdef' });
  ({ handler } = await import('#functions/poll-status'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([table?.close(), segmind?.close()]);
});

const context = { functionName: 'PollStatus', awsRequestId: 'lambda-req-1' } as Context;

let counter = 0;
/** A QUEUED job submitted `secondsAgo` ago, and the workflow state PollStatus gets for it. */
const arrange = async (secondsAgo = 40) => {
  counter += 1;
  const jobId = `poll-${counter}`;
  const requestId = `req-${counter}`;
  const submittedAt = new Date(Date.now() - secondsAgo * 1000).toISOString();
  await table.putJob(
    pendingJob(jobId, {
      status: 'QUEUED',
      submitState: 'ACCEPTED',
      segmindRequestId: requestId,
      submittedAt,
    }),
  );
  const state = {
    jobId,
    request: DEFAULT_REQUEST,
    segmind: {
      requestId,
      statusUrl: `${segmind.url}/v2/requests/${requestId}/status`,
      responseUrl: `${segmind.url}/v2/requests/${requestId}`,
      submittedAt,
      firstPollAt: submittedAt,
    },
  };
  return { jobId, requestId, state };
};
const record = (jobId: string) => table.getJob(jobId);
const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe('PollStatus handler', () => {
  it('follows the status URL, records PROCESSING, and returns the next poll for the Wait state', async () => {
    const { jobId, requestId, state } = await arrange();
    script.push({ status: 200, body: { status: 'PROCESSING', request_id: requestId, metrics: {} } });

    const poll = await handler(state, context);
    expect(segmind.requests.at(-1)?.path).toBe(`/v2/requests/${requestId}/status`);
    expect(poll).toMatchObject({ status: 'PROCESSING', pollCount: 1, strikes: 0 });
    expect(Date.parse(poll.nextPollAt)).toBeGreaterThan(Date.now());
    expect(await record(jobId)).toMatchObject({ status: 'PROCESSING', pollCount: 1 });

    // The next iteration of the loop passes the previous poll back in.
    script.push({
      status: 200,
      body: { status: 'COMPLETED', request_id: requestId, metrics: { inference_time: 13.06 } },
    });
    expect(await handler({ ...state, poll }, context)).toMatchObject({ status: 'COMPLETED', pollCount: 2 });
  });

  it('reads a FAILED job (HTTP 422) as data for the Choice state', async () => {
    const { requestId, state } = await arrange();
    script.push({
      status: 422,
      body: {
        status: 'FAILED',
        error: 'Prompt is Mandatory and must be string',
        request_id: requestId,
        metrics: {},
      },
    });
    expect(await handler(state, context)).toMatchObject({
      status: 'FAILED',
      error: 'Prompt is Mandatory and must be string',
    });
  });

  it('waits out a 429 until the reset time instead of failing', async () => {
    const { state } = await arrange();
    const resetAt = new Date(Date.now() + 20_000);
    script.push({
      status: 429,
      body: { error: 'Too many requests' },
      headers: { 'x-rate-limit-reset-at-utc': resetAt.toISOString() },
    });
    const poll = await handler(state, context);
    expect(poll).toMatchObject({ status: 'THROTTLED', strikes: 1 });
    expect(Date.parse(poll.nextPollAt)).toBeGreaterThanOrEqual(resetAt.getTime() - 1000);
  });

  it('polls again later after a 502, and throws an expired request under its own name', async () => {
    const { state } = await arrange();
    script.push({ status: 502, body: { error: 'Bad gateway' } });
    expect(await handler(state, context)).toMatchObject({
      status: 'UNAVAILABLE',
      retryReason: 'upstream-unavailable',
      nextPollAt: expect.any(String),
    });
    script.push({ status: 404, body: { error: `Request ${state.segmind.requestId} not found` } });
    expect((await failureOf(handler(state, context)))?.name).toBe('SegmindNotFoundError');
  });

  it('throws JobDeadlineExceededError for a job still running past the deadline', async () => {
    const { requestId, state } = await arrange(41 * 60);
    script.push({ status: 200, body: { status: 'QUEUED', request_id: requestId, metrics: {} } });
    expect((await failureOf(handler(state, context)))?.name).toBe('JobDeadlineExceededError');
  });

  it('refuses a state without the submit it polls', async () => {
    const { jobId } = await arrange();
    const error = await failureOf(handler({ jobId, request: DEFAULT_REQUEST }, context));
    expect(error?.name).toBe('InvalidPayloadError');
    expect(error?.message).toMatch(/segmind/);
  });
});
