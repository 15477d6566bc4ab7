// The emulator's output videos: real MP4s (H.264 yuv420p, 25 fps, AAC when the job asked for audio) made
// once per (resolution, duration, audio) with ffmpeg and cached on disk. Small and fast to make on purpose:
// a 640x360 test pattern scaled up with nearest-neighbour, x264 ultrafast at a low bitrate.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegPath } from '#local/ffmpeg';

export const VIDEO_DIMENSIONS = Object.freeze({
  '1080p': [1920, 1080],
  '2k': [2560, 1440],
  '4k': [3840, 2160],
} as const);

export const VIDEO_FPS = 25;

export interface VideoVariant {
  resolution: keyof typeof VIDEO_DIMENSIONS;
  duration: 6 | 8 | 10;
  audio: boolean;
}

export interface VideoFile {
  path: string;
  size: number;
}

export interface VideoLibraryOptions {
  cacheDir: string;
  /** ffmpeg runs at once (each is multi-threaded already). */
  maxParallel?: number;
  /** Bump when the encoding changes, so stale cached files are not served. */
  version?: string;
}

const ENCODING_VERSION = 'v1';

/** ffmpeg arguments for one variant, written to `output`. */
export const ffmpegArguments = (variant: VideoVariant, output: string): string[] => {
  const [width, height] = VIDEO_DIMENSIONS[variant.resolution];
  const seconds = String(variant.duration);
  const video = `testsrc=size=640x360:rate=${VIDEO_FPS}:duration=${seconds},format=yuv420p,scale=${width}:${height}:flags=neighbor`;
  const audioInput = variant.audio
    ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`]
    : [];
  const audioOutput = variant.audio ? ['-map', '1:a', '-c:a', 'aac', '-b:a', '48k'] : ['-an'];
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
    ...['-f', 'lavfi', '-i', video],
    ...audioInput,
    ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '38', '-pix_fmt', 'yuv420p'],
    ...['-r', String(VIDEO_FPS)],
    ...audioOutput,
    ...['-t', seconds, '-movflags', '+faststart', '-fflags', '+bitexact'],
    ...['-metadata', 'title=ltx-2-fast (Segmind emulator)', '-f', 'mp4', output],
  ];
};

export class VideoLibrary {
  private readonly cacheDir: string;
  private readonly maxParallel: number;
  private readonly version: string;
  private readonly pending = new Map<string, Promise<VideoFile>>();
  private readonly known = new Map<string, VideoFile>();
  private readonly children = new Set<ChildProcess>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private closed = false;
  private swept: Promise<void> | undefined;

  constructor(options: VideoLibraryOptions) {
    this.cacheDir = options.cacheDir;
    this.maxParallel = options.maxParallel ?? 2;
    this.version = options.version ?? ENCODING_VERSION;
  }

  fileName(variant: VideoVariant): string {
    return `ltx-${variant.resolution}-${variant.duration}s-${variant.audio ? 'audio' : 'silent'}-${this.version}.mp4`;
  }

  /** The file, if this library already knows it is on disk. */
  ready(variant: VideoVariant): VideoFile | undefined {
    return this.known.get(this.fileName(variant));
  }

  /**
   * The file for a variant, made on first need. Concurrent callers share one ffmpeg run; a failed run is
   * forgotten so the next call tries again. Writes go to a temp file renamed into place, so a reader (or
   * another process sharing the cache) never sees half a video.
   */
  ensure(variant: VideoVariant): Promise<VideoFile> {
    const name = this.fileName(variant);
    const inFlight = this.pending.get(name);
    if (inFlight !== undefined) return inFlight;
    const made = this.make(variant, name).then(
      (file) => {
        this.known.set(name, file);
        this.pending.delete(name);
        return file;
      },
      (error: unknown) => {
        this.pending.delete(name);
        throw error;
      },
    );
    this.pending.set(name, made);
    return made;
  }

  /** Stops running ffmpeg processes and waits until their temp files are removed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const child of this.children) child.kill('SIGKILL');
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.allSettled([...this.pending.values()]);
  }

  private async make(variant: VideoVariant, name: string): Promise<VideoFile> {
    const path = join(this.cacheDir, name);
    const cached = await sizeOf(path);
    if (cached !== undefined) return { path, size: cached };
    await this.acquire();
    try {
      // Another process sharing the cache may have finished it while we waited.
      const now = await sizeOf(path);
      if (now !== undefined) return { path, size: now };
      if (this.closed) throw new Error('the video library is closed');
      await mkdir(this.cacheDir, { recursive: true });
      this.swept ??= sweepStaleTemps(this.cacheDir);
      await this.swept;
      const temp = join(this.cacheDir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
      try {
        await this.runFfmpeg(ffmpegArguments(variant, temp));
        await rename(temp, path);
      } finally {
        await rm(temp, { force: true });
      }
      const size = await sizeOf(path);
      if (size === undefined) throw new Error(`ffmpeg produced no file for ${name}`);
      return { path, size };
    } finally {
      this.release();
    }
  }

  private runFfmpeg(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
      this.children.add(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      child.on('error', (error) => {
        this.children.delete(child);
        reject(error);
      });
      child.on('close', (code, signal) => {
        this.children.delete(child);
        if (code === 0) resolve();
        else reject(new Error(`ffmpeg failed (${signal ?? `exit ${String(code)}`}): ${stderr.trim()}`));
      });
    });
  }

  private async acquire(): Promise<void> {
    while (this.running >= this.maxParallel && !this.closed) {
      await new Promise<void>((wake) => this.waiting.push(wake));
    }
    this.running += 1;
  }

  private release(): void {
    this.running -= 1;
    this.waiting.shift()?.();
  }
}

/** Temp files older than this were left by a process that died mid-write (or before its rename). */
const STALE_TEMP_MS = 10 * 60 * 1000;

const sweepStaleTemps = async (dir: string): Promise<void> => {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith('.') && name.endsWith('.tmp'))
      .map(async (name) => {
        const path = join(dir, name);
        const info = await stat(path).catch(() => undefined);
        if (info !== undefined && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
      }),
  );
};

const sizeOf = async (path: string): Promise<number | undefined> => {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0 ? info.size : undefined;
  } catch {
    return undefined;
  }
};
