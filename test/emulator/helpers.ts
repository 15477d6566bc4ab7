// Shared helpers for the emulator tests: plain fetch against a running emulator, as a Segmind user would.

import type { EmulatorOptions, RunningEmulator } from '#emulator/control';
import { startEmulator } from '#emulator/index';

/** The cheapest output to generate; tests that do not care about the video use it. */
export const CHEAP_JOB = {
  prompt: 'a lighthouse at dawn',
  resolution: '1080p',
  duration: 6,
  generate_audio: true,
};
export const CHEAP_SHAPE = { resolution: '1080p', duration: 6, generateAudio: true } as const;

export interface TestEmulator extends RunningEmulator {
  key: string;
}

export const start = async (options: EmulatorOptions = {}): Promise<TestEmulator> => {
  // A generous rate limit unless a test is about rate limiting: polling tests make many requests.
  const emulator = await startEmulator({ seed: 7, rateLimitPerMinute: 1_000_000, ...options });
  return { ...emulator, key: emulator.apiKeys[0] ?? '' };
};

export const post = (
  emulator: TestEmulator,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/v2/ltx-2-fast',
): Promise<Response> =>
  fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': emulator.key, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

export const get = (
  emulator: TestEmulator,
  pathOrUrl: string,
  headers?: Record<string, string>,
): Promise<Response> =>
  fetch(pathOrUrl.startsWith('http') ? pathOrUrl : `${emulator.url}${pathOrUrl}`, {
    headers: headers ?? { 'x-api-key': emulator.key },
  });

export interface Submitted {
  request_id: string;
  status: string;
  poll_url: string;
  status_url: string;
  response_url: string;
}

export const submitJob = async (emulator: TestEmulator, body: unknown = CHEAP_JOB): Promise<Submitted> => {
  const response = await post(emulator, body);
  if (response.status !== 200)
    throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Submitted;
};

export const readJson = async (response: Response): Promise<Record<string, unknown>> =>
  (await response.json()) as Record<string, unknown>;

/** The emulator's own record of a job (its drawn latency). */
export const jobView = (emulator: TestEmulator, requestId: string) => {
  const job = emulator.control.jobs().find((j) => j.requestId === requestId);
  if (job === undefined) throw new Error(`no job ${requestId}`);
  return job;
};

/** Moves emulated time past the end of a job's planned run. */
export const finish = (emulator: TestEmulator, requestId: string): void => {
  const job = jobView(emulator, requestId);
  emulator.control.advanceClock(job.queueSeconds + job.inferenceSeconds + 1);
};

/** Polls the status URL (real time, bounded) until the job is terminal; returns the last body. */
export const waitForTerminal = async (
  emulator: TestEmulator,
  statusUrl: string,
  timeoutMs = 20_000,
): Promise<{ httpStatus: number; body: Record<string, unknown>; seen: string[] }> => {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (;;) {
    const response = await get(emulator, statusUrl);
    const body = await readJson(response);
    const status = String(body.status);
    if (seen.at(-1) !== status) seen.push(status);
    if (status === 'COMPLETED' || status === 'FAILED') return { httpStatus: response.status, body, seen };
    if (Date.now() > deadline) throw new Error(`job still ${status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
