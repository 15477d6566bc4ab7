// Checks, as the bytes stream past, that a download is the MP4 the job asked for: a sound box structure
// (ftyp, moov and mdat present, top-level box sizes adding up to the byte count), and the duration, frame
// size and audio track the moov declares. mp4box (GPAC's parser) reads the boxes; it skips mdat payloads
// when told not to keep them, so memory stays bounded by the moov, not by the file.
import { createFile, type ISOFile, type Movie, MP4BoxBuffer } from 'mp4box';
import { VideoIntegrityError } from '#domain/errors';
import type { Resolution, VideoRequest } from '#domain/video-request';

/** LTX-2's frame size per resolution (16:9). */
export const FRAME_SIZES: Readonly<Record<Resolution, readonly [number, number]>> = Object.freeze({
  '1080p': [1920, 1080],
  '2k': [2560, 1440],
  '4k': [3840, 2160],
});

/**
 * Half a second either way: an encoder rounds a clip to whole frames (LTX-2 renders 8n+1 frames at 25 fps,
 * so 6 s may come out as 5.8 or 6.1 s) and pads audio to whole AAC frames; a clip of the wrong requested
 * length is 2 s off at least.
 */
export const DURATION_TOLERANCE_SECONDS = 0.5;

/** What the job asked for, in the terms the MP4 states them. */
export interface ExpectedVideo {
  width: number;
  height: number;
  durationSeconds: number;
  audio: boolean;
}

export const expectedVideoOf = (
  request: Pick<VideoRequest, 'resolution' | 'duration' | 'generateAudio'>,
): ExpectedVideo => {
  const [width, height] = FRAME_SIZES[request.resolution];
  return { width, height, durationSeconds: request.duration, audio: request.generateAudio };
};

/** What the moov says about the file. */
export interface Mp4Facts {
  width: number;
  height: number;
  durationSeconds: number;
  videoCodec: string;
  audioTracks: number;
}

interface TopLevelBox {
  type?: string;
  start?: number;
  size?: number;
}

/**
 * Feed it the body chunk by chunk (`append`), then call `finish(totalBytes)`: it throws VideoIntegrityError
 * at the first sign the bytes are not the expected video.
 */
export class Mp4Inspector {
  readonly #expected: ExpectedVideo;
  readonly #file: ISOFile;
  #offset = 0;
  #info: Movie | undefined;
  #parseError: string | undefined;

  constructor(expected: ExpectedVideo) {
    this.#expected = expected;
    // false: mdat payloads are skipped, not buffered.
    this.#file = createFile(false);
    this.#file.onReady = (info) => {
      this.#info = info;
    };
    this.#file.onError = (module, message) => {
      this.#parseError ??= `${module}: ${message ?? ''}`.trim();
    };
  }

  append(chunk: Uint8Array): void {
    // mp4box may keep the buffer until it has parsed it: give it its own copy, not a pooled slice.
    const copy = new Uint8Array(chunk.length);
    copy.set(chunk);
    try {
      this.#file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(copy.buffer, this.#offset));
    } catch (cause) {
      throw new VideoIntegrityError(`The video is not a readable MP4 (at byte ${this.#offset})`, { cause });
    }
    this.#offset += chunk.length;
    if (this.#parseError !== undefined) {
      throw new VideoIntegrityError(`The video is not a readable MP4: ${this.#parseError}`);
    }
  }

  finish(): Mp4Facts {
    try {
      this.#file.flush();
    } catch (cause) {
      throw new VideoIntegrityError('The video is not a readable MP4 (at its end)', { cause });
    }
    this.#checkStructure(this.#offset);
    return this.#checkContent();
  }

  /** Top-level boxes must tile the file exactly: a gap, an overlap or a short last box means lost bytes. */
  #checkStructure(totalBytes: number): void {
    const boxes = this.#file.boxes as readonly TopLevelBox[];
    let end = 0;
    for (const box of boxes) {
      const { type = '?', start, size } = box;
      if (start !== end || size === undefined) {
        throw new VideoIntegrityError(`The MP4's '${type}' box starts at byte ${start}, expected ${end}`);
      }
      // Size 0 means "to the end of the file" (ISO/IEC 14496-12 4.2).
      end = size === 0 ? totalBytes : start + size;
    }
    if (end !== totalBytes) {
      throw new VideoIntegrityError(
        `The MP4's boxes span ${end} bytes but the video has ${totalBytes}: it is truncated or padded`,
      );
    }
    const types = new Set(boxes.map((box) => box.type));
    for (const required of ['ftyp', 'moov', 'mdat']) {
      if (!types.has(required)) {
        throw new VideoIntegrityError(`The MP4 has no '${required}' box`);
      }
    }
    if (boxes[0]?.type !== 'ftyp') {
      throw new VideoIntegrityError(`The MP4 starts with '${boxes[0]?.type}', not 'ftyp'`);
    }
  }

  #checkContent(): Mp4Facts {
    const info = this.#info;
    if (info === undefined) throw new VideoIntegrityError('The MP4 has no readable movie header');
    const video = info.videoTracks[0];
    if (video === undefined || video.video === undefined) {
      throw new VideoIntegrityError('The MP4 has no video track');
    }
    if (video.nb_samples === 0) throw new VideoIntegrityError('The MP4 video track has no frames');
    const facts: Mp4Facts = {
      width: video.video.width,
      height: video.video.height,
      durationSeconds:
        video.timescale > 0 ? video.duration / video.timescale : info.duration / info.timescale,
      videoCodec: video.codec,
      audioTracks: info.audioTracks.length,
    };
    const expected = this.#expected;
    if (facts.width !== expected.width || facts.height !== expected.height) {
      throw new VideoIntegrityError(
        `The video is ${facts.width}x${facts.height}, the job asked for ${expected.width}x${expected.height}`,
      );
    }
    if (
      !Number.isFinite(facts.durationSeconds) ||
      Math.abs(facts.durationSeconds - expected.durationSeconds) > DURATION_TOLERANCE_SECONDS
    ) {
      throw new VideoIntegrityError(
        `The video lasts ${facts.durationSeconds.toFixed(2)} s, the job asked for ${expected.durationSeconds} s`,
      );
    }
    if (expected.audio && facts.audioTracks === 0) {
      throw new VideoIntegrityError('The video has no audio track, the job asked for audio');
    }
    return facts;
  }
}
