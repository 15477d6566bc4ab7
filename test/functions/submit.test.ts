// The Submit Lambda end to end on the local stack: its real handler, the real job store on dynalite, and
// the real Segmind client against a loopback stand-in for Segmind.

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import { isBudgetWait } from '#domain/budgeted-steps';
import type { SubmitResult, VideoJob } from '#domain/video-job';
import { type StubServer, startStub } from '#test/segmind/support/stub-server';
import { stubHandlerEnv } from '#test/support/handler-env';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { DEFAULT_REQUEST, pendingJob } from '#test/support/workflow-fakes';

const API_KEY = 'SG_0123456789abcdef';

let table: JobsTable;
let segmind: StubServer;
/** What the stand-in answers to the next POST. */
let answer: { status: number; body: unknown };
let handler: (event: unknown, context: Context) => Promise<SubmitResult>;
const logged: string[] = [];

beforeAll(async () => {
  table = await startJobsTable();
  segmind = await startStub((_request, response) => {
    const id = `req-${segmind.requests.length}`;
    const body =
      answer.status === 200
        ? {
            request_id: id,
            status: 'QUEUED',
            poll_url: `${segmind.url}/v1/requests/${id}`,
            status_url: `${segmind.url}/v2/requests/${id}/status`,
            response_url: `${segmind.url}/v2/requests/${id}`,
          }
        : answer.body;
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  stubHandlerEnv(table, {
    [ENV.segmindBaseUrl]: segmind.url,
    [ENV.segmindApiKey]: API_KEY,
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    // On, to read the metrics the unknown outcome publishes (EMF on stdout).
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(String(chunk));
    return rest.length === 0 ? true : write(chunk);
  });
  // Imported after the environment is set: the handler reads its configuration at load.
  const submit = await import('#functions/submit');
  // These tests never run out of budget (see stubHandlerEnv): a wait would be a bug here.
  handler = async (event, lambdaContext) => {
    const result = await submit.handler(event, lambdaContext);
    if (isBudgetWait(result)) throw new Error(`unexpected wait for the budget: ${JSON.stringify(result)}`);
    return result;
  };
});

afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all([table?.close(), segmind?.close()]);
});

beforeEach(() => {
  answer = { status: 200, body: {} };
});

const context = {
  functionName: 'Submit',
  awsRequestId: 'lambda-req-1',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

let counter = 0;
const arrange = async (overrides: Partial<VideoJob> = {}): Promise<string> => {
  counter += 1;
  const jobId = `submit-${counter}`;
  await table.putJob(pendingJob(jobId, overrides));
  return jobId;
};
const record = (jobId: string) => table.getJob(jobId);
const postsSoFar = () => segmind.requests.filter((request) => request.method === 'POST').length;
const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe('Submit handler', () => {
  it('POSTs once with the key, stores the request id, and answers a retried invocation without another POST', async () => {
    const jobId = await arrange();
    const posts = postsSoFar();

    const result = await handler({ jobId, request: DEFAULT_REQUEST }, context);
    expect(result.requestId).toMatch(/^req-/);
    expect(result.statusUrl).toBe(`${segmind.url}/v2/requests/${result.requestId}/status`);
    expect(Date.parse(result.firstPollAt)).toBeGreaterThan(Date.parse(result.submittedAt));

    const post = segmind.requests.at(-1);
    expect(post).toMatchObject({ method: 'POST', path: '/v2/ltx-2-fast' });
    expect(post?.headers['x-api-key']).toBe(API_KEY);
    expect(JSON.parse(post?.body ?? '{}')).toEqual({
      prompt: DEFAULT_REQUEST.prompt,
      duration: 8,
      resolution: '2k',
      generate_audio: true,
    });
    expect(await record(jobId)).toMatchObject({
      status: 'QUEUED',
      submitState: 'ACCEPTED',
      segmindRequestId: result.requestId,
      submitAttempts: 1,
    });

    const retried = await handler({ jobId, request: DEFAULT_REQUEST }, context);
    expect(retried.requestId).toBe(result.requestId);
    expect(postsSoFar()).toBe(posts + 1);
  });

  it('rethrows a 503 under its own name, after which a retry POSTs again', async () => {
    const jobId = await arrange();
    answer = { status: 503, body: { error: 'Service temporarily unavailable' } };
    const error = await failureOf(handler({ jobId, request: DEFAULT_REQUEST }, context));
    expect(error?.name).toBe('SegmindUnavailableError');
    expect(await record(jobId)).toMatchObject({ status: 'PENDING', submitState: 'NOT_CREATED' });

    answer = { status: 200, body: {} };
    const result = await handler({ jobId, request: DEFAULT_REQUEST }, context);
    expect(await record(jobId)).toMatchObject({ segmindRequestId: result.requestId, submitAttempts: 2 });
  });

  it('stops for good on a 504, which may have created a job', async () => {
    const jobId = await arrange();
    answer = { status: 504, body: { error: 'Gateway Timeout' } };
    const before = logged.length;
    const error = await failureOf(handler({ jobId, request: DEFAULT_REQUEST }, context));
    expect(error?.name).toBe('SubmitOutcomeUnknownError');
    expect(await record(jobId)).toMatchObject({ submitState: 'UNKNOWN' });
    // Counted, with the price of the job Segmind may have billed (2k × 8 s), for the alarm.
    const emf = logged
      .slice(before)
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('"SubmitOutcomeUnknown"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ SubmitOutcomeUnknown: 1, SubmitOutcomeUnknownPossibleCostUsd: 0.8 });

    const posts = postsSoFar();
    answer = { status: 200, body: {} };
    expect((await failureOf(handler({ jobId, request: DEFAULT_REQUEST }, context)))?.name).toBe(
      'SubmitOutcomeUnknownError',
    );
    expect(postsSoFar()).toBe(posts);
  });

  it('refuses an invalid request by field, before reaching Segmind', async () => {
    const jobId = await arrange();
    const posts = postsSoFar();
    const error = await failureOf(handler({ jobId, request: { prompt: '', resolution: '8k' } }, context));
    expect(error?.name).toBe('InvalidVideoRequestError');
    expect(error?.message).toMatch(/prompt/);
    expect(error?.message).toMatch(/resolution/);
    expect(postsSoFar()).toBe(posts);
  });

  it('refuses a payload without a usable job id', async () => {
    const error = await failureOf(handler({ jobId: '../etc', request: DEFAULT_REQUEST }, context));
    expect(error?.name).toBe('InvalidPayloadError');
    expect(error?.message).toMatch(/jobId/);
  });

  it('never writes the API key to the logs', () => {
    const output = logged.join('');
    expect(output).toContain('submit-1');
    expect(output).not.toContain(API_KEY);
  });
});

describe('Submit handler configuration', () => {
  it('fails at load, naming the missing variable', async () => {
    vi.resetModules();
    vi.stubEnv(ENV.jobsTable, '');
    await expect(import('#functions/submit')).rejects.toThrow(/JOBS_TABLE_NAME/);
    vi.resetModules();
    vi.stubEnv(ENV.jobsTable, 'jobs');
    vi.stubEnv(ENV.segmindApiKey, '');
    await expect(import('#functions/submit')).rejects.toThrow(/SEGMIND_API_KEY/);
  });
});
