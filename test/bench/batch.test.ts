import { describe, expect, it } from 'vitest';
import { batchManifestLines, rateLimitBound } from '#bench/batch';
import { videoRequestSchema } from '#domain/video-request';

describe('rateLimitBound', () => {
  it('is the requests divided by the limit, in emulated minutes and in real seconds at the scale', () => {
    expect(rateLimitBound(7500, 50, 60)).toEqual({ emulatedMinutes: 150, realSeconds: 150 });
    expect(rateLimitBound(100, 50, 1)).toEqual({ emulatedMinutes: 2, realSeconds: 120 });
  });

  it('refuses a limit or a scale that is not positive', () => {
    expect(() => rateLimitBound(10, 0, 1)).toThrow(RangeError);
    expect(() => rateLimitBound(10, 50, 0)).toThrow(RangeError);
  });
});

describe('batchManifestLines', () => {
  it('is one valid default request per line', () => {
    const lines = batchManifestLines(3);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const request = videoRequestSchema.parse(JSON.parse(line));
      expect(request).toMatchObject({ resolution: '2k', duration: 8, generateAudio: true });
    }
    expect(new Set(lines).size).toBe(3);
  });
});
