// Finds ffmpeg and ffprobe for the local stack: a copy on PATH wins (a system build is usually newer), else
// the static builds shipped inside @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe, which need no
// apt step. `probeVideo` is the one place tests read an MP4's real properties.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

const onPath = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
};

const fromPackage = (pkg: string, tool: string): string => {
  try {
    const found = require(pkg) as { path?: unknown };
    if (typeof found.path === 'string') return found.path;
  } catch (error) {
    throw new Error(`${tool} is not on PATH and ${pkg} could not be loaded`, { cause: error });
  }
  throw new Error(`${tool} is not on PATH and ${pkg} reported no binary path`);
};

const located = new Map<string, string>();

const locate = (tool: 'ffmpeg' | 'ffprobe', pkg: string): string => {
  const known = located.get(tool);
  if (known !== undefined) return known;
  const path = onPath(tool) ?? fromPackage(pkg, tool);
  located.set(tool, path);
  return path;
};

/** Absolute path of an ffmpeg binary. Throws with a clear message when there is none. */
export const ffmpegPath = (): string => locate('ffmpeg', '@ffmpeg-installer/ffmpeg');

/** Absolute path of an ffprobe binary. Throws with a clear message when there is none. */
export const ffprobePath = (): string => locate('ffprobe', '@ffprobe-installer/ffprobe');

export interface VideoProbe {
  /** Video codec name as ffprobe reports it, e.g. `h264`. */
  codec: string;
  width: number;
  height: number;
  pixelFormat: string | undefined;
  /** Container duration in seconds. */
  durationSeconds: number;
  /** Frame rate of the video stream (r_frame_rate), e.g. 25. */
  fps: number;
  hasAudio: boolean;
  audioCodec: string | null;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  duration?: string;
}

const frameRate = (ratio: string | undefined): number => {
  const [num, den] = (ratio ?? '0/1').split('/').map(Number);
  return num !== undefined && den !== undefined && den !== 0 ? num / den : Number.NaN;
};

/** Reads an MP4's real properties with ffprobe. Rejects when the file is not a readable video. */
export const probeVideo = async (file: string): Promise<VideoProbe> => {
  const { stdout } = await run(
    ffprobePath(),
    ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file],
    { maxBuffer: 4 * 1024 * 1024 },
  );
  const parsed = JSON.parse(stdout) as { streams?: ProbeStream[]; format?: { duration?: string } };
  const streams = parsed.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (video === undefined) throw new Error(`${file} has no video stream`);
  return {
    codec: video.codec_name ?? 'unknown',
    width: video.width ?? 0,
    height: video.height ?? 0,
    pixelFormat: video.pix_fmt,
    durationSeconds: Number(parsed.format?.duration ?? video.duration ?? Number.NaN),
    fps: frameRate(video.r_frame_rate),
    hasAudio: audio !== undefined,
    audioCodec: audio?.codec_name ?? null,
  };
};
