// The MP4 check on real files rendered by the emulator's ffmpeg recipe: what a good video looks like, and
// each way a download can be the wrong video (cut, corrupted, padded, other length, size or no audio).
import { beforeAll, describe, expect, it } from 'vitest';
import { VideoIntegrityError } from '#domain/errors';
import { type ExpectedVideo, expectedVideoOf, Mp4Inspector } from '#domain/mp4-check';
import { corruptLikeEmulator, DEFAULT_VARIANT, paddedMp4Head, realMp4 } from '#test/adapters/video-fixtures';

const FULL_HD_6S_AUDIO: ExpectedVideo = { width: 1920, height: 1080, durationSeconds: 6, audio: true };

let withAudio: Buffer;
let silent: Buffer;
let eightSeconds: Buffer;

beforeAll(async () => {
  [withAudio, silent, eightSeconds] = await Promise.all([
    realMp4(DEFAULT_VARIANT),
    realMp4({ ...DEFAULT_VARIANT, audio: false }),
    realMp4({ ...DEFAULT_VARIANT, duration: 8 }),
  ]);
});

/** Feeds `bytes` in `chunkSize` pieces, as a download delivers them. */
const inspect = (bytes: Buffer, expected: ExpectedVideo = FULL_HD_6S_AUDIO, chunkSize = 16 * 1024) => {
  const inspector = new Mp4Inspector(expected);
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    inspector.append(bytes.subarray(offset, offset + chunkSize));
  }
  return inspector.finish();
};

describe('expectedVideoOf', () => {
  it('maps the request to frame size, duration and audio', () => {
    expect(expectedVideoOf({ resolution: '1080p', duration: 6, generateAudio: true })).toEqual(
      FULL_HD_6S_AUDIO,
    );
    expect(expectedVideoOf({ resolution: '2k', duration: 8, generateAudio: false })).toEqual({
      width: 2560,
      height: 1440,
      durationSeconds: 8,
      audio: false,
    });
    expect(expectedVideoOf({ resolution: '4k', duration: 10, generateAudio: true })).toMatchObject({
      width: 3840,
      height: 2160,
    });
  });
});

describe('Mp4Inspector', () => {
  it('accepts the requested video, whatever the chunking, and reports what the moov says', () => {
    for (const chunkSize of [997, 16 * 1024, withAudio.length]) {
      expect(inspect(withAudio, FULL_HD_6S_AUDIO, chunkSize)).toMatchObject({
        width: 1920,
        height: 1080,
        durationSeconds: expect.closeTo(6, 1),
        videoCodec: expect.stringMatching(/^avc1/),
        audioTracks: 1,
      });
    }
  });

  it('accepts a silent video when no audio was asked for, and extra audio when none was', () => {
    expect(inspect(silent, { ...FULL_HD_6S_AUDIO, audio: false })).toMatchObject({ audioTracks: 0 });
    expect(inspect(withAudio, { ...FULL_HD_6S_AUDIO, audio: false })).toMatchObject({ audioTracks: 1 });
  });

  it('reads a large body whose samples it never keeps (moov first, then a padded mdat)', () => {
    const size = 8 * 1024 * 1024;
    const body = Buffer.alloc(size, 0x42);
    paddedMp4Head(withAudio, size).copy(body);
    expect(inspect(body)).toMatchObject({ width: 1920, height: 1080 });
  });

  it.each<[string, () => Buffer, ExpectedVideo, RegExp]>([
    ['cut short', () => withAudio.subarray(0, withAudio.length - 1000), FULL_HD_6S_AUDIO, /truncated/],
    ['cut inside the moov', () => withAudio.subarray(0, 2000), FULL_HD_6S_AUDIO, /moov|truncated/],
    [
      'padded with extra bytes',
      () => Buffer.concat([withAudio, Buffer.alloc(3)]),
      FULL_HD_6S_AUDIO,
      /padded/,
    ],
    [
      'corrupted the way the emulator corrupts',
      () => corruptLikeEmulator(withAudio),
      FULL_HD_6S_AUDIO,
      /MP4/,
    ],
    ['8 s long for a 6 s job', () => eightSeconds, FULL_HD_6S_AUDIO, /lasts 8\.\d+ s, the job asked for 6 s/],
    [
      '1080p for a 2k job',
      () => withAudio,
      { ...FULL_HD_6S_AUDIO, width: 2560, height: 1440 },
      /1920x1080, the job asked for 2560x1440/,
    ],
    ['silent for a job with audio', () => silent, FULL_HD_6S_AUDIO, /no audio track/],
    [
      'not an MP4 at all',
      () => Buffer.from('<html><body>502 Bad Gateway</body></html>'),
      FULL_HD_6S_AUDIO,
      /MP4/,
    ],
  ])('rejects a video %s', (_what, bytes, expected, message) => {
    expect(() => inspect(bytes(), expected)).toThrow(VideoIntegrityError);
    expect(() => inspect(bytes(), expected)).toThrow(message);
  });

  it('rejects an mdat-less file and a moov-less file', () => {
    const moovEnd = withAudio.indexOf('mdat', 0, 'latin1') - 4;
    // ftyp + moov (+ free) alone: the boxes tile the bytes, but there is no media data.
    expect(() => inspect(withAudio.subarray(0, moovEnd))).toThrow(/no 'mdat' box/);
    const ftyp = withAudio.subarray(0, withAudio.readUInt32BE(0));
    const mdat = withAudio.subarray(moovEnd);
    expect(() => inspect(Buffer.concat([ftyp, mdat]))).toThrow(/no 'moov' box|movie header/);
  });
});
