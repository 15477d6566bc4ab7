// DELETE /videos/{jobId} racing the copy of the video, over real HTTP on the local stack with the emulator's
// timing: once a job is STORING its video is paid for, so the cancel answers 409 and the job ends
// COMPLETED; before that the cancel wins and nothing is stored. Whatever the timing, the bucket and the
// record agree: one object exactly when the job is COMPLETED.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  type ApiStack,
  errorOf,
  jobIdOf,
  SMALL_JOB,
  startApiStack,
} from '#test/api-e2e/support/api-stack';
import { emulatorOf, readObject, sha256, videoKeysOf } from '#test/workflow/support/local-stack';

let env: ApiStack;
let api: ApiClient;

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  api = env.client;
});
afterAll(() => env?.stop());

beforeEach(async () => {
  await env.stack.workflow.idle();
  emulatorOf(env.stack).control.reset();
});

const request = (prompt: string) => ({ prompt, ...SMALL_JOB });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The job's objects in the bucket must be exactly its recorded video when COMPLETED, else none. */
const expectBucketAgrees = async (jobId: string): Promise<string> => {
  const view = (await api.get(jobId)).body;
  const keys = await videoKeysOf(env.stack, jobId);
  if (view.status === 'COMPLETED') {
    const video = view.video as { bucket: string; key: string; sha256: string };
    expect(keys).toEqual([video.key]);
    expect(sha256(await readObject(env.stack, video.bucket, video.key))).toBe(video.sha256);
  } else {
    expect(keys, `job ${jobId} is ${String(view.status)}`).toEqual([]);
  }
  return String(view.status);
};

describe('cancel while the video is being stored', () => {
  it('answers 409 JobBeingStored, and the job ends COMPLETED with its object', async () => {
    // Every download starts 1.5 s late: a wide STORING window to cancel in.
    emulatorOf(env.stack).control.injectFault({ endpoint: 'download', kind: 'slow', delayMs: 1_500 });
    const jobId = jobIdOf(await api.create(request('a fox being stored')));
    await api.waitForStatus(jobId, ['STORING'], { intervalMs: 20 });

    const refused = await api.cancel(jobId);

    expect(refused.status, refused.text).toBe(409);
    expect(errorOf(refused)).toMatchObject({
      code: 'JobBeingStored',
      message: expect.stringContaining('billed'),
    });
    expect(env.stack.workflow.describe(jobId)?.status).toBe('RUNNING');
    const done = await api.waitForStatus(jobId, ['COMPLETED', 'FAILED', 'CANCELLED']);
    expect(done).toMatchObject({ status: 'COMPLETED' });
    expect(done.cancelledAt).toBeUndefined();
    expect(await expectBucketAgrees(jobId)).toBe('COMPLETED');
  });

  it('cancels landing anywhere in a job’s life: the bucket and the record always agree', async () => {
    emulatorOf(env.stack).control.injectFault({
      endpoint: 'download',
      kind: 'slow',
      delayMs: 200,
      count: Number.POSITIVE_INFINITY,
    });
    // The same jobs, each cancelled a little later than the one before: from before the submit to after
    // the end, through QUEUED, PROCESSING and STORING.
    const delays = [0, 100, 250, 400, 550, 700, 850, 1_000, 1_300, 1_800, 2_500];
    const outcomes = await Promise.all(
      delays.map(async (delay, index) => {
        const jobId = jobIdOf(await api.create(request(`a fox cancelled after ${delay} ms (${index})`)));
        await sleep(delay);
        const answer = await api.cancel(jobId);
        return { jobId, answer };
      }),
    );
    await env.stack.workflow.idle();

    const seen = new Set<string>();
    for (const { jobId, answer } of outcomes) {
      const status = await expectBucketAgrees(jobId);
      seen.add(status);
      if (answer.status === 200) {
        expect(status).toBe('CANCELLED');
      } else {
        expect(answer.status, answer.text).toBe(409);
        expect(status).toBe('COMPLETED');
        expect(['JobBeingStored', 'JobAlreadyEnded']).toContain(errorOf(answer).code);
      }
    }
    // Both sides of the race were exercised.
    expect(seen).toEqual(new Set(['CANCELLED', 'COMPLETED']));
  });
});
