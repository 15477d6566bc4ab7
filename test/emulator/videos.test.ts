// The MP4s a COMPLETED job links to are real videos of the requested shape, checked with ffprobe.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VideoLibrary } from '#emulator/videos';
import { probeVideo } from '#local/ffmpeg';
import { finish, get, readJson, start, submitJob, type TestEmulator } from '#test/emulator/helpers';

const SHAPES = [
  { resolution: '1080p', duration: 6, generate_audio: true, width: 1920, height: 1080 },
  { resolution: '1080p', duration: 8, generate_audio: false, width: 1920, height: 1080 },
  { resolution: '2k', duration: 10, generate_audio: true, width: 2560, height: 1440 },
  { resolution: '4k', duration: 6, generate_audio: false, width: 3840, height: 2160 },
] as const;

let emulator: TestEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await start();
  dir = await mkdtemp(join(tmpdir(), 'emulator-videos-'));
  // Two ffmpeg runs at a time instead of one after the other (a cold cache costs ~10 s on 2 cores).
  await emulator.prepareVideos(
    SHAPES.map(({ resolution, duration, generate_audio }) => ({
      resolution,
      duration,
      generateAudio: generate_audio,
    })),
  );
});
afterAll(async () => {
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('downloaded videos', () => {
  it.each(SHAPES)(
    '$resolution, $duration s, audio $generate_audio: H.264 yuv420p at $width x $height, 25 fps, exact duration',
    async ({ resolution, duration, generate_audio, width, height }) => {
      const { request_id, status_url, response_url } = await submitJob(emulator, {
        prompt: `a ${resolution} test`,
        resolution,
        duration,
        generate_audio,
      });
      finish(emulator, request_id);
      expect(await readJson(await get(emulator, status_url))).toMatchObject({ status: 'COMPLETED' });
      const result = (await readJson(await get(emulator, response_url))) as {
        status: string;
        output: string;
      };
      expect(result.status).toBe('COMPLETED');
      const download = await fetch(result.output);
      expect(download.status).toBe(200);
      const file = join(dir, `${resolution}-${duration}-${String(generate_audio)}.mp4`);
      await writeFile(file, Buffer.from(await download.arrayBuffer()));

      const probe = await probeVideo(file);
      expect(probe).toMatchObject({ codec: 'h264', width, height, pixelFormat: 'yuv420p', fps: 25 });
      expect(Math.abs(probe.durationSeconds - duration)).toBeLessThanOrEqual(0.1);
      expect(probe.hasAudio).toBe(generate_audio);
      expect(probe.audioCodec).toBe(generate_audio ? 'aac' : null);
    },
  );
});

describe('video cache', () => {
  it('holds a job in PROCESSING until its file exists, then serves it', async () => {
    const cold = await start({ cacheDir: join(dir, 'cache') });
    try {
      const { request_id, status_url, response_url } = await submitJob(cold, {
        prompt: 'cold cache',
        resolution: '1080p',
        duration: 6,
        generate_audio: false,
      });
      finish(cold, request_id);
      // ffmpeg takes a second or more: the planned end has passed, but there is no file yet.
      expect(await readJson(await get(cold, status_url))).toMatchObject({ status: 'PROCESSING' });
      let status = 'PROCESSING';
      for (let i = 0; i < 600 && status === 'PROCESSING'; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = String((await readJson(await get(cold, status_url))).status);
      }
      expect(status).toBe('COMPLETED');
      const { output } = (await readJson(await get(cold, response_url))) as { output: string };
      expect((await fetch(output)).status).toBe(200);
    } finally {
      await cold.stop();
    }
  });

  it('shares one run between concurrent callers and leaves no temp files behind', async () => {
    const cacheDir = join(dir, 'cache');
    const library = new VideoLibrary({ cacheDir });
    const variant = { resolution: '1080p', duration: 6, audio: false } as const;
    const first = library.ensure(variant);
    const second = library.ensure(variant);
    expect(second).toBe(first);
    const file = await first;
    expect(await readdir(cacheDir)).toEqual([library.fileName(variant)]);
    expect(library.ready(variant)).toEqual(file);
    expect(file.size).toBeGreaterThan(1000);
    await library.close();
  });

  it('rejects when a file is not a video', async () => {
    const bogus = join(dir, 'not-a-video.mp4');
    await writeFile(bogus, 'hello');
    await expect(probeVideo(bogus)).rejects.toThrow();
  });
});
