import { describe, expect, it } from 'vitest';
import {
  blendExpectedSeconds,
  EXPECTED_DURATION_MODEL,
  expectedCompletionSeconds,
  type JobShape,
} from '#domain/expected-duration';
import { DURATIONS, RESOLUTIONS } from '#domain/video-request';

const defaultJob: JobShape = { resolution: '2k', duration: 8, generateAudio: true, hasImage: false };

describe('expectedCompletionSeconds', () => {
  it('puts the default job (2k, 8 s, audio, no image) at the ~46–48 s Segmind shows', () => {
    const seconds = expectedCompletionSeconds(defaultJob);
    expect(seconds).toBeGreaterThanOrEqual(46);
    expect(seconds).toBeLessThanOrEqual(48);
  });

  it('grows with resolution and with duration', () => {
    const at = (resolution: JobShape['resolution'], duration: JobShape['duration']) =>
      expectedCompletionSeconds({ ...defaultJob, resolution, duration });
    expect(at('1080p', 8)).toBeLessThan(at('2k', 8));
    expect(at('2k', 8)).toBeLessThan(at('4k', 8));
    expect(at('2k', 6)).toBeLessThan(at('2k', 8));
    expect(at('2k', 8)).toBeLessThan(at('2k', 10));
  });

  it('adds a little for audio and for an input image', () => {
    const silent = expectedCompletionSeconds({ ...defaultJob, generateAudio: false });
    const withImage = expectedCompletionSeconds({ ...defaultJob, hasImage: true });
    const base = expectedCompletionSeconds(defaultJob);
    expect(silent).toBeLessThan(base);
    expect(base - silent).toBeLessThan(10);
    expect(withImage).toBeGreaterThan(base);
    expect(withImage - base).toBeLessThan(10);
  });

  it('stays within the 20–120 s band other LTX-2 hosts report, for every configuration', () => {
    for (const resolution of RESOLUTIONS) {
      for (const duration of DURATIONS) {
        for (const generateAudio of [true, false]) {
          for (const hasImage of [true, false]) {
            const seconds = expectedCompletionSeconds({ resolution, duration, generateAudio, hasImage });
            expect(seconds).toBeGreaterThan(20);
            expect(seconds).toBeLessThan(120);
          }
        }
      }
    }
  });

  it('is frozen, so no caller can retune the shared prior by accident', () => {
    expect(Object.isFrozen(EXPECTED_DURATION_MODEL)).toBe(true);
    expect(Object.isFrozen(EXPECTED_DURATION_MODEL.resolutionFactor)).toBe(true);
  });
});

describe('blendExpectedSeconds', () => {
  it('keeps the prior without observations', () => {
    expect(blendExpectedSeconds(47, [])).toBe(47);
    expect(blendExpectedSeconds(47, [Number.NaN, -3, 0])).toBe(47);
  });

  it('moves towards what completed jobs took, more so with more of them', () => {
    const few = blendExpectedSeconds(47, [60, 60]);
    const many = blendExpectedSeconds(
      47,
      Array.from({ length: 50 }, () => 60),
    );
    expect(few).toBeGreaterThan(47);
    expect(many).toBeGreaterThan(few);
    expect(many).toBeLessThan(60);
  });

  it('is not dragged by a single cold worker', () => {
    const blended = blendExpectedSeconds(47, [46, 47, 48, 47, 300], 0);
    expect(blended).toBe(47);
  });
});
