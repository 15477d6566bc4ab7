// Completed jobs, end to end on the synthesized state machine: the stored MP4 is what was asked for.
// Matrix (kept affordable — each job renders a real MP4): 1080p × {6, 8, 10} s, 2k/8 s (the default
// job), 4k/6 s, and 1080p/6 s without audio.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Duration, Resolution } from '#domain/video-request';
import { probeVideo } from '#local/ffmpeg';
import type { LocalStack } from '#local/stack';
import {
  describeJob,
  emulatorOf,
  eventTypesOf,
  readObject,
  sha256,
  startTestStack,
} from '#test/workflow/support/local-stack';

const DIMENSIONS: Record<Resolution, [number, number]> = {
  '1080p': [1920, 1080],
  '2k': [2560, 1440],
  '4k': [3840, 2160],
};

let stack: LocalStack;
let scratch: string;

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 100 });
  scratch = await mkdtemp(join(tmpdir(), 'ltx-happy-'));
});

afterAll(async () => {
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

beforeEach(() => emulatorOf(stack).control.reset());

const cases: { resolution: Resolution; duration: Duration; generateAudio: boolean }[] = [
  { resolution: '1080p', duration: 6, generateAudio: true },
  { resolution: '1080p', duration: 8, generateAudio: true },
  { resolution: '1080p', duration: 10, generateAudio: true },
  { resolution: '2k', duration: 8, generateAudio: true },
  { resolution: '4k', duration: 6, generateAudio: true },
  { resolution: '1080p', duration: 6, generateAudio: false },
];

describe('a job that Segmind completes', () => {
  it.each(cases)('stores a $resolution, $duration s video (audio: $generateAudio)', async (request) => {
    const { job, execution } = await stack.runJob({ prompt: 'a red fox running through snow', ...request });

    expect(job.status, describeJob(job)).toBe('COMPLETED');
    expect(execution?.status).toBe('SUCCEEDED');
    expect(job.segmindRequestId).toEqual(expect.any(String));
    expect(job.pollCount).toBeGreaterThanOrEqual(1);
    expect(job.metrics?.cost).toBeGreaterThan(0);
    expect(job.errorCode).toBeUndefined();
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(1);

    const video = job.video;
    if (!video) throw new Error(`no video on ${describeJob(job)}`);
    expect(video.bucket).toBe(stack.s3.videosBucket);
    expect(video.contentType).toBe('video/mp4');
    const bytes = await readObject(stack, video.bucket, video.key);
    expect(bytes.length).toBe(video.bytes);
    expect(sha256(bytes)).toBe(video.sha256);

    const file = join(scratch, `${job.jobId}.mp4`);
    await writeFile(file, bytes);
    const probe = await probeVideo(file);
    const [width, height] = DIMENSIONS[request.resolution];
    expect(probe).toMatchObject({ codec: 'h264', width, height, hasAudio: request.generateAudio });
    expect(probe.durationSeconds).toBeCloseTo(request.duration, 0);

    expect(eventTypesOf(stack, job.jobId)).toEqual(['Video Generation Succeeded']);
  });

  it('returns the existing record, and starts nothing, when the job id is used again', async () => {
    const first = await stack.runJob(
      { prompt: 'once', resolution: '1080p', duration: 6 },
      { jobId: 'job-twice' },
    );
    const second = await stack.runJob(
      { prompt: 'once', resolution: '1080p', duration: 6 },
      { jobId: 'job-twice' },
    );

    expect(first.job.status).toBe('COMPLETED');
    expect(second.started).toBe(false);
    expect(second.job).toEqual(first.job);
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(1);
  });
});
