// The seeded random fault mode and the per-request counters a soak checks delivery against: what was
// created, answered, billed, served and downloaded whole, with the sha256 of what was served.
import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCli } from '#emulator/cli';
import { CONTROL_PREFIX, DEFAULT_RANDOM_FAULT_KINDS } from '#emulator/index';
import {
  CHEAP_JOB,
  CHEAP_SHAPE,
  finish,
  get,
  post,
  readJson,
  start,
  submitJob,
  type TestEmulator,
} from '#test/emulator/helpers';

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await start();
  await emulator.prepareVideos([CHEAP_SHAPE]);
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.control.reset());

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const record = (requestId: string) => {
  const found = emulator.control.requests().find((r) => r.requestId === requestId);
  if (found === undefined) throw new Error(`no request record for ${requestId}`);
  return found;
};

/** Submits a cheap job with a unique prompt and lets it finish; returns its ids and result. */
const completedJob = async (prompt: string) => {
  const job = await submitJob(emulator, { ...CHEAP_JOB, prompt });
  finish(emulator, job.request_id);
  const result = (await readJson(await get(emulator, job.response_url))) as { output: string };
  return { ...job, output: result.output };
};

/** What each of `n` status calls met: its HTTP status, or 'reset'. */
const statusOutcomes = async (statusUrl: string, n: number): Promise<string[]> => {
  const outcomes: string[] = [];
  for (let i = 0; i < n; i += 1) {
    try {
      const response = await get(emulator, statusUrl);
      await response.arrayBuffer();
      outcomes.push(String(response.status));
    } catch {
      outcomes.push('reset');
    }
  }
  return outcomes;
};

describe('random fault mode', () => {
  it('draws the same faults for the same seed, and none at rate 0', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.setRandomFaults({ rate: 0.5, seed: 11 });
    const first = await statusOutcomes(status_url, 40);
    emulator.control.setRandomFaults({ rate: 0.5, seed: 11 });
    const second = await statusOutcomes(status_url, 40);
    expect(second).toEqual(first);
    const faulted = first.filter((outcome) => outcome !== '200').length;
    expect(faulted).toBeGreaterThan(8);
    expect(faulted).toBeLessThan(32);
    expect(new Set(first)).toEqual(new Set(['200', '429', '500', '502', '503', 'reset']));

    emulator.control.setRandomFaults({ rate: 0, seed: 11 });
    expect(new Set(await statusOutcomes(status_url, 10))).toEqual(new Set(['200']));
  });

  it('draws only the kinds configured for the endpoint, and counts them by kind', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.setRandomFaults({
      rate: 1,
      kinds: { status: [{ kind: 'http-error', status: 503, body: 'json' }] },
    });
    expect(await statusOutcomes(status_url, 3)).toEqual(['503', '503', '503']);
    // Submit has no kinds here: it draws nothing.
    await submitJob(emulator);
    expect(emulator.control.counters().faultsByKind).toEqual({ status: { 'http-error': 3 } });
  });

  it('uses an injected fault first', async () => {
    const { status_url } = await submitJob(emulator);
    emulator.control.setRandomFaults({ rate: 1, kinds: { status: [{ kind: 'rate-limit' }] } });
    emulator.control.injectFault({ endpoint: 'status', kind: 'http-error', status: 500, body: 'json' });
    expect(await statusOutcomes(status_url, 2)).toEqual(['500', '429']);
  });

  it('is refused when malformed, over HTTP and in process', async () => {
    expect(() => emulator.control.setRandomFaults({ rate: 2 })).toThrow(/rate/);
    const bad = await fetch(`${emulator.url}${CONTROL_PREFIX}/random-faults`, {
      method: 'POST',
      body: JSON.stringify({ rate: 0.1, kinds: { status: [{ kind: 'no-such-kind' }] } }),
    });
    expect(bad.status).toBe(400);
    const good = await fetch(`${emulator.url}${CONTROL_PREFIX}/random-faults`, {
      method: 'POST',
      body: JSON.stringify({ rate: 0.1, rates: { download: 0.5 }, seed: 3 }),
    });
    expect(good.status).toBe(200);
    const read = await readJson(await fetch(`${emulator.url}${CONTROL_PREFIX}/random-faults`));
    expect(read).toEqual({ randomFaults: { rate: 0.1, rates: { download: 0.5 }, seed: 3 } });
    await fetch(`${emulator.url}${CONTROL_PREFIX}/random-faults`, { method: 'DELETE' });
    expect(emulator.control.randomFaults()).toBeNull();
  });

  it('defaults to a mix whose submit faults each have a known outcome (not created, or created unanswered)', () => {
    expect(DEFAULT_RANDOM_FAULT_KINDS.submit.map((k) => k.kind).sort()).toEqual([
      'error-after-accept',
      'http-error',
      'rate-limit',
      'reset-after-accept',
    ]);
  });
});

describe('submits that create a job without an answer', () => {
  it('error-after-accept creates the job, then answers a proxy 502 page', async () => {
    emulator.control.injectFault({
      endpoint: 'submit',
      kind: 'error-after-accept',
      status: 502,
      body: 'html',
    });
    const response = await post(emulator, { ...CHEAP_JOB, prompt: 'proxy ate it' });
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toContain('502 Bad Gateway');
    const [created] = emulator.control.requests();
    expect(created).toMatchObject({
      prompt: 'proxy ate it',
      answered: false,
      faults: { 'error-after-accept': 1 },
    });
    expect(emulator.control.counters()).toMatchObject({ jobsCreated: 1, createdWithoutAnswer: 1 });
    expect(emulator.control.submits()).toEqual([
      {
        prompt: 'proxy ate it',
        requestId: created?.requestId,
        fault: 'error-after-accept',
        answered: true,
        httpStatus: 502,
      },
    ]);
  });

  it('reset-after-accept counts as created without an answer; a plain submit is answered', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'reset-after-accept' });
    await expect(post(emulator, { ...CHEAP_JOB, prompt: 'reset' })).rejects.toThrow();
    const answered = await submitJob(emulator, { ...CHEAP_JOB, prompt: 'fine' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(emulator.control.counters()).toMatchObject({ jobsCreated: 2, createdWithoutAnswer: 1 });
    expect(record(answered.request_id).answered).toBe(true);
    const submits = emulator.control.submits();
    expect(submits.map((s) => [s.prompt, s.fault, s.answered, s.requestId !== null])).toEqual([
      ['reset', 'reset-after-accept', false, true],
      ['fine', null, true, true],
    ]);
  });

  it.each([
    { kind: 'reset-after-accept' } as const,
    { kind: 'error-after-accept', status: 502, body: 'html' } as const,
  ])(
    '$kind does nothing to a submit that was refused: the 429 arrives, no job, no fault counted',
    async (kind) => {
      emulator.control.configure({ rateLimitPerMinute: 1 });
      await submitJob(emulator, { ...CHEAP_JOB, prompt: 'first' });
      emulator.control.injectFault({ endpoint: 'submit', ...kind });
      const refused = await post(emulator, { ...CHEAP_JOB, prompt: 'throttled' });
      expect(refused.status).toBe(429);
      await refused.arrayBuffer();
      expect(emulator.control.counters()).toMatchObject({
        jobsCreated: 1,
        createdWithoutAnswer: 0,
        faultsByKind: {},
      });
      expect(emulator.control.submits()[1]).toEqual({
        prompt: 'throttled',
        requestId: null,
        fault: null,
        answered: true,
        httpStatus: 429,
      });
    },
  );

  it('records gateway faults on submit with their prompt and no job', async () => {
    emulator.control.injectFault({ endpoint: 'submit', kind: 'http-error', status: 500, body: 'json' });
    expect((await post(emulator, { ...CHEAP_JOB, prompt: 'refused' })).status).toBe(500);
    expect(emulator.control.submits()).toEqual([
      { prompt: 'refused', requestId: null, fault: 'http-error', answered: true, httpStatus: 500 },
    ]);
    expect(emulator.control.counters()).toMatchObject({ jobsCreated: 0, createdWithoutAnswer: 0 });
  });
});

describe('per request id: billed, result served, downloaded whole', () => {
  it('tallies a delivered job, and the sha256 of what it served equals the bytes received', async () => {
    const job = await completedJob('delivered');
    const bytes = new Uint8Array(await (await get(emulator, job.output, {})).arrayBuffer());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(record(job.request_id)).toMatchObject({
      status: 'COMPLETED',
      billed: true,
      cost: 0.5,
      answered: true,
      resultsServed: 1,
      downloads: 1,
      fullDownloads: 1,
      bytesDownloaded: bytes.length,
      sha256: sha256(bytes),
    });
    expect(emulator.control.counters()).toMatchObject({ billed: 1, resultsServed: 1, fullDownloads: 1 });
  });

  it('counts every whole download, also from clients that close the moment they have the last byte', async () => {
    const job = await completedJob('many readers');
    // agent:false and destroy on end, as the pipeline's downloader does: the close can beat the server's
    // own end-of-file, so counting on 'finish' alone missed about 1 % of these.
    const readWhole = () =>
      new Promise<number>((resolve, reject) => {
        httpGet(job.output, { agent: false }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          res.on('end', () => {
            res.destroy();
            resolve(bytes);
          });
          res.on('error', reject);
        }).on('error', reject);
      });
    const sizes = await Promise.all(Array.from({ length: 100 }, readWhole));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(record(job.request_id)).toMatchObject({
      downloads: 100,
      fullDownloads: 100,
      bytesDownloaded: sizes.reduce((sum, n) => sum + n, 0),
    });
  });

  it('does not count a truncated or corrupted download, nor a result answered with a fault', async () => {
    const job = await completedJob('damaged');
    emulator.control.injectFault([
      { endpoint: 'download', kind: 'truncate' },
      { endpoint: 'download', kind: 'corrupt' },
      { endpoint: 'result', kind: 'non-json' },
    ]);
    await get(emulator, job.output, {})
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
    await (await get(emulator, job.output, {})).arrayBuffer();
    await (await get(emulator, job.response_url)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(record(job.request_id)).toMatchObject({
      billed: true,
      resultsServed: 1, // the one completedJob read, not the non-JSON one
      downloads: 2,
      fullDownloads: 0,
      bytesDownloaded: 0,
      sha256: null,
      faults: { truncate: 1, corrupt: 1, 'non-json': 1 },
    });
  });

  it('does not bill a job that has not completed', async () => {
    const job = await submitJob(emulator, { ...CHEAP_JOB, prompt: 'waiting' });
    expect(record(job.request_id)).toMatchObject({ billed: false, cost: 0, status: 'QUEUED' });
    const overHttp = await readJson(await fetch(`${emulator.url}${CONTROL_PREFIX}/requests`));
    expect(overHttp.requests).toEqual([
      expect.objectContaining({ requestId: job.request_id, billed: false }),
    ]);
  });
});

describe('npm run emulator: random fault flags', () => {
  it('reads --fault-rate with the default mix on the listed endpoints, and a seed', () => {
    expect(
      parseCli(['--fault-rate', '0.25', '--fault-endpoints', 'submit,download', '--fault-seed', '9']),
    ).toEqual({
      randomFaults: {
        rate: 0.25,
        seed: 9,
        kinds: {
          submit: DEFAULT_RANDOM_FAULT_KINDS.submit,
          download: DEFAULT_RANDOM_FAULT_KINDS.download,
        },
      },
    });
  });

  it('reads --random-faults JSON, and refuses bad combinations', () => {
    expect(parseCli(['--random-faults', '{"rate":0.1,"kinds":{"status":[{"kind":"reset"}]}}'])).toEqual({
      randomFaults: { rate: 0.1, kinds: { status: [{ kind: 'reset' }] } },
    });
    expect(() => parseCli(['--fault-rate', '1.5'])).toThrow(/fault-rate/);
    expect(() => parseCli(['--fault-endpoints', 'submit'])).toThrow(/need --fault-rate/);
    expect(() => parseCli(['--fault-rate', '0.1', '--fault-endpoints', 'upload'])).toThrow(
      /unknown endpoint/,
    );
    expect(() =>
      parseCli(['--random-faults', '{"rate":0.1,"kinds":{"status":[{"kind":"nope"}]}}']),
    ).toThrow();
  });
});
