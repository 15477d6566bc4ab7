// The client against the Segmind emulator over real loopback HTTP: the documented answers, every fault
// class the emulator can inject, and the counters that prove the client never retries on its own.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '#emulator/control';
import { startEmulator } from '#emulator/index';
import { SegmindClient } from '#segmind/client';
import type { SegmindError } from '#segmind/errors';
import { completedResult, isPendingResult, isTerminalStatus } from '#segmind/results';
import type { SegmindVideoRequest, StatusReport } from '#segmind/types';
import { expectSegmindError } from './support/expect-error';

const REQUEST: SegmindVideoRequest = {
  prompt: 'a lighthouse at dusk',
  duration: 6,
  resolution: '1080p',
  generate_audio: false,
};
/** Fast enough that a 46 s job takes well under a second of real time. */
const TIME_SCALE = 500;

let emulator: RunningEmulator;
let apiKey: string;
let client: SegmindClient;
const cacheDir = join(tmpdir(), `segmind-client-test-${process.pid}`);

const clientWith = (
  options: { readTimeoutMs?: number; model?: string; apiKey?: string } = {},
): SegmindClient =>
  new SegmindClient({
    baseUrl: emulator.url,
    apiKey: options.apiKey ?? apiKey,
    connectTimeoutMs: 2_000,
    readTimeoutMs: options.readTimeoutMs ?? 5_000,
    ...(options.model === undefined ? {} : { model: options.model }),
  });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the way a caller would, until Segmind reports a terminal status (bounded, never a timing assertion). */
const pollUntilTerminal = async (statusUrl: string): Promise<StatusReport> => {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const report = await client.status(statusUrl);
    if (isTerminalStatus(report.status)) return report;
    await sleep(25);
  }
  throw new Error('the emulated job never finished');
};

const expectError = (
  call: Promise<unknown>,
  expected: Parameters<typeof expectSegmindError>[1],
): Promise<SegmindError> => expectSegmindError(call, expected, apiKey);

beforeAll(async () => {
  emulator = await startEmulator({ timeScale: TIME_SCALE, seed: 42, cacheDir, rateLimitPerMinute: 100_000 });
  const [key] = emulator.apiKeys;
  if (key === undefined) throw new Error('the emulator started without an API key');
  apiKey = key;
  client = clientWith();
});

afterEach(() => {
  emulator.control.reset();
});

afterAll(async () => {
  await emulator?.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('SegmindClient against the emulator: the documented path', () => {
  it('submits, polls the URLs it was given until COMPLETED, and reads the video and metrics', async () => {
    const submitted = await client.submit(REQUEST);
    expect(submitted.statusUrl.startsWith(emulator.url)).toBe(true);

    const final = await pollUntilTerminal(submitted.statusUrl);
    expect(final).toMatchObject({ requestId: submitted.requestId, status: 'COMPLETED' });
    expect(final.metrics.inferenceTime).toBeGreaterThan(0);

    const result = completedResult(await client.result(submitted.responseUrl));
    expect(result?.video.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+\.mp4$/);
    expect(result?.metrics.cost).toBeGreaterThan(0);
    expect(result?.metrics.remainingCredits).toBeTypeOf('number');
    expect(emulator.control.counters().jobsCreated).toBe(1);
  });

  it('accepts a bare request id as well as the URLs', async () => {
    const { requestId } = await client.submit(REQUEST);
    await expect(client.status(requestId)).resolves.toMatchObject({ requestId });
    const early = await client.result(requestId);
    expect(early.requestId).toBe(requestId);
  });

  it('reads a FAILED job (HTTP 422) as data, and completedResult turns it into SegmindJobFailedError', async () => {
    emulator.control.addFailureRule({ promptContains: 'forbidden', kind: 'content-blocked' });
    const submitted = await client.submit({ ...REQUEST, prompt: 'something forbidden' });

    const final = await pollUntilTerminal(submitted.statusUrl);
    expect(final.status).toBe('FAILED');
    expect(final.error).toBeTruthy();

    const result = await client.result(submitted.responseUrl);
    expect(result).toMatchObject({ status: 'FAILED', requestId: submitted.requestId });
    const error = await expectError(Promise.resolve(result).then(completedResult), {
      name: 'SegmindJobFailedError',
      retryable: false,
      requestId: submitted.requestId,
    });
    expect(error).toHaveProperty('detail', final.error);
  });
});

describe('SegmindClient against the emulator: explicit refusals', () => {
  it('a wrong key is SegmindAuthError, certainly not created', async () => {
    await expectError(clientWith({ apiKey: 'SG_ffffffffffffffff' }).submit(REQUEST), {
      name: 'SegmindAuthError',
      retryable: false,
      submitOutcome: 'not-created',
      httpStatus: 401,
    });
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });

  it('no credits is SegmindInsufficientCreditsError (406), certainly not created', async () => {
    emulator.control.setCredits(apiKey, 0);
    await expectError(client.submit(REQUEST), {
      name: 'SegmindInsufficientCreditsError',
      retryable: false,
      submitOutcome: 'not-created',
      httpStatus: 406,
    });
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });

  it('the rate limit is SegmindRateLimitedError with the reset time from the header', async () => {
    emulator.control.configure({ rateLimitPerMinute: 2 });
    const { requestId } = await client.submit(REQUEST);
    await client.status(requestId);
    const error = await expectError(client.status(requestId), {
      name: 'SegmindRateLimitedError',
      retryable: true,
      httpStatus: 429,
      requestId,
    });
    expect(error).toHaveProperty('resetAt', expect.any(Date));
    await expectError(client.submit(REQUEST), {
      name: 'SegmindRateLimitedError',
      retryable: true,
      submitOutcome: 'not-created',
    });
    expect(emulator.control.counters().jobsCreated).toBe(1);
  });

  it('a body Segmind refuses is SegmindBadRequestError (400) with its message, certainly not created', async () => {
    const invalid = { ...REQUEST, duration: 7 } as unknown as SegmindVideoRequest;
    await expectError(client.submit(invalid), {
      name: 'SegmindBadRequestError',
      retryable: false,
      submitOutcome: 'not-created',
      httpStatus: 400,
      message: /duration/,
    });
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });

  it('an unknown model on submit is SegmindModelGoneError (404), certainly not created', async () => {
    await expectError(clientWith({ model: 'ltx-9-imaginary' }).submit(REQUEST), {
      name: 'SegmindModelGoneError',
      retryable: false,
      submitOutcome: 'not-created',
      httpStatus: 404,
    });
  });

  it('an unknown request id is SegmindNotFoundError (404)', async () => {
    await expectError(client.status('00000000-0000-0000-0000-000000000000'), {
      name: 'SegmindNotFoundError',
      retryable: false,
      httpStatus: 404,
      requestId: '00000000-0000-0000-0000-000000000000',
    });
  });

  it('a job past the one-hour retention is SegmindNotFoundError on status and result', async () => {
    const submitted = await client.submit(REQUEST);
    emulator.control.advanceClock(2 * 3600);
    await expectError(client.status(submitted.statusUrl), {
      name: 'SegmindNotFoundError',
      retryable: false,
      requestId: submitted.requestId,
    });
    await expectError(client.result(submitted.responseUrl), {
      name: 'SegmindNotFoundError',
      retryable: false,
    });
  });
});

describe('SegmindClient against the emulator: injected faults', () => {
  it.each([
    [500, 'json', 'not-created'],
    [502, 'html', 'may-exist'],
    [502, 'json', 'may-exist'],
    [503, 'json', 'not-created'],
    [503, 'empty', 'may-exist'],
    [500, 'html', 'may-exist'],
    [504, 'html', 'may-exist'],
  ] as const)(
    'submit answered %i (%s body) is SegmindUnavailableError, %s, and the client does not retry it',
    async (status, body, outcome) => {
      emulator.control.injectFault({ endpoint: 'submit', kind: 'http-error', status, body });
      await expectError(client.submit(REQUEST), {
        name: 'SegmindUnavailableError',
        retryable: true,
        submitOutcome: outcome,
        httpStatus: status,
      });
      const counters = emulator.control.counters();
      expect(counters.byEndpoint.submit).toBe(1);
      expect(counters.jobsCreated).toBe(0);
    },
  );

  it('a 502 HTML page on a poll is retryable SegmindUnavailableError', async () => {
    const { requestId } = await client.submit(REQUEST);
    emulator.control.injectFault({ endpoint: 'status', kind: 'http-error', status: 502, body: 'html' });
    await expectError(client.status(requestId), {
      name: 'SegmindUnavailableError',
      retryable: true,
      httpStatus: 502,
      requestId,
    });
    expect(emulator.control.counters().byEndpoint.status).toBe(1);
  });

  it('a 405 HTML page is SegmindMalformedResponseError', async () => {
    const { requestId } = await client.submit(REQUEST);
    emulator.control.injectFault({ endpoint: 'result', kind: 'http-error', status: 405, body: 'html' });
    await expectError(client.result(requestId), {
      name: 'SegmindMalformedResponseError',
      retryable: true,
      httpStatus: 405,
    });
  });

  it('a 429 burst carries the reset time', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'rate-limit' });
    const error = await expectError(client.submit(REQUEST), {
      name: 'SegmindRateLimitedError',
      retryable: true,
      submitOutcome: 'not-created',
    });
    expect(error).toHaveProperty('resetAt', expect.any(Date));
  });

  it('a reset after Segmind accepted the job: may exist (and it does)', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'reset-after-accept' });
    await expectError(client.submit(REQUEST), {
      name: 'SegmindUnavailableError',
      retryable: true,
      submitOutcome: 'may-exist',
    });
    expect(emulator.control.counters().jobsCreated).toBe(1);
  });

  it('a reset before Segmind accepted: the client cannot tell it from the case above, so it still says may-exist', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'reset-before-accept' });
    await expectError(client.submit(REQUEST), {
      name: 'SegmindUnavailableError',
      retryable: true,
      submitOutcome: 'may-exist',
    });
    expect(emulator.control.counters().jobsCreated).toBe(0);
  });

  it('a reset on a poll is retryable SegmindUnavailableError', async () => {
    const { requestId } = await client.submit(REQUEST);
    emulator.control.injectFault({ endpoint: 'status', kind: 'reset' });
    await expectError(client.status(requestId), {
      name: 'SegmindUnavailableError',
      retryable: true,
      requestId,
    });
  });

  it('a slow submit past the read timeout is SegmindTimeoutError that may have created the job', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'slow', delayMs: 1_500 });
    await expectError(clientWith({ readTimeoutMs: 300 }).submit(REQUEST), {
      name: 'SegmindTimeoutError',
      retryable: true,
      submitOutcome: 'may-exist',
    });
  });

  it('a slow poll past the read timeout is retryable SegmindTimeoutError', async () => {
    const { requestId } = await client.submit(REQUEST);
    emulator.control.injectFault({ endpoint: 'status', kind: 'slow', delayMs: 1_500 });
    await expectError(clientWith({ readTimeoutMs: 300 }).status(requestId), {
      name: 'SegmindTimeoutError',
      retryable: true,
      requestId,
    });
  });

  it.each(['empty-body', 'non-json', 'missing-request-id'] as const)(
    'a 200 submit with %s is SegmindMalformedResponseError that may have created the job',
    async (kind) => {
      emulator.control.injectFault({ endpoint: 'submit', kind });
      await expectError(client.submit(REQUEST), {
        name: 'SegmindMalformedResponseError',
        retryable: true,
        submitOutcome: 'may-exist',
        httpStatus: 200,
      });
    },
  );

  it.each(['empty-body', 'non-json'] as const)(
    'a 200 poll with %s is SegmindMalformedResponseError',
    async (kind) => {
      const { requestId } = await client.submit(REQUEST);
      emulator.control.injectFault({ endpoint: 'status', kind });
      await expectError(client.status(requestId), {
        name: 'SegmindMalformedResponseError',
        retryable: true,
        requestId,
      });
    },
  );
});

describe('SegmindClient against the emulator: shapes that deviate from the docs', () => {
  it('ignores extra fields on submit, status and result', async () => {
    emulator.control.injectFault([
      { endpoint: 'submit', kind: 'extra-fields' },
      { endpoint: 'status', kind: 'extra-fields', count: Number.POSITIVE_INFINITY },
      { endpoint: 'result', kind: 'extra-fields' },
    ]);
    const submitted = await client.submit(REQUEST);
    await expect(pollUntilTerminal(submitted.statusUrl)).resolves.toMatchObject({ status: 'COMPLETED' });
    expect(completedResult(await client.result(submitted.responseUrl))?.video.url).toMatch(/\.mp4$/);
  });

  it('falls back to `output` when the result has no video object', async () => {
    emulator.control.injectFault({ endpoint: 'result', kind: 'missing-video-object' });
    const submitted = await client.submit(REQUEST);
    await pollUntilTerminal(submitted.statusUrl);
    const result = completedResult(await client.result(submitted.responseUrl));
    expect(result?.video.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+\.mp4$/);
    expect(result?.video.contentType).toBeUndefined();
  });

  it('returns an unknown status string as is, and a result asked for then as pending', async () => {
    const { requestId } = await client.submit(REQUEST);
    emulator.control.injectFault([
      { endpoint: 'status', kind: 'unknown-status', status: 'WARMING_UP' },
      { endpoint: 'result', kind: 'unknown-status', status: 'WARMING_UP' },
    ]);
    const status = await client.status(requestId);
    expect(status.status).toBe('WARMING_UP');
    expect(isTerminalStatus(status.status)).toBe(false);
    const result = await client.result(requestId);
    expect(isPendingResult(result)).toBe(true);
    expect(result.status).toBe('WARMING_UP');
  });
});
