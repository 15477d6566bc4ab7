// SEGMIND_BASE_URL alone is enough: the emulator started on its own port (as its printed hint says to use
// it) runs a job to COMPLETED, because the video download trusts Segmind's own origin by configuration —
// no second, undocumented allow list to set.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import type { RunningEmulator } from '#emulator/control';
import { startEmulator } from '#emulator/index';
import { type LocalStack, startLocalStack } from '#local/stack';
import { describeJob, readObject, sha256 } from '#test/workflow/support/local-stack';

const JOB = {
  prompt: 'a red fox running through snow',
  resolution: '1080p',
  duration: 6,
  generateAudio: true,
} as const;

let emulator: RunningEmulator;
let stack: LocalStack;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 7, timeScale: 100 });
  await emulator.prepareVideos([JOB]);
  // Exactly what `npm run emulator` prints: SEGMIND_BASE_URL=<its url> SEGMIND_API_KEY=<its key>.
  vi.stubEnv(ENV.segmindBaseUrl, emulator.url);
  vi.stubEnv(ENV.segmindApiKey, emulator.apiKeys[0] ?? '');
  vi.stubEnv(ENV.allowedVideoHosts, '');
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  stack = await startLocalStack({ timeScale: 100 });
});
afterAll(async () => {
  await stack?.stop();
  await emulator?.stop();
  vi.unstubAllEnvs();
});

describe('a Segmind endpoint on another port, given only as SEGMIND_BASE_URL', () => {
  it('is the one the stack uses', () => {
    expect(stack.segmind).toEqual({ baseUrl: emulator.url, emulated: false });
    expect(stack.emulator).toBeUndefined();
  });

  it('runs a job to COMPLETED: the video it serves is downloaded and stored', async () => {
    const { job } = await stack.runJob(JOB);
    expect(job.status, describeJob(job)).toBe('COMPLETED');
    const counters = emulator.control.counters();
    expect(counters.byEndpoint.submit).toBe(1);
    expect(counters.byEndpoint.download).toBe(1);
    const video = job.video;
    if (video === undefined) throw new Error('no video on a COMPLETED job');
    expect(sha256(await readObject(stack, video.bucket, video.key))).toBe(video.sha256);
  });
});
