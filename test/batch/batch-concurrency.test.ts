// Sizing a batch's concurrency to Segmind's requests-per-minute limit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_SHAPE, sizeBatchConcurrency } from '#domain/batch-concurrency';
import { expectedCompletionSeconds } from '#domain/expected-duration';

describe('sizeBatchConcurrency', () => {
  it('puts the nearest whole number of videos in flight to what the limit sustains', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        (rpm, headroom) => {
          const sized = sizeBatchConcurrency({ requestsPerMinute: rpm, headroom });
          const sustained = (rpm * headroom) / sized.requestsPerVideoPerMinute;
          expect(sized.maxConcurrency).toBeGreaterThanOrEqual(1);
          // Never more than half a video over the limit, unless a single video already is.
          if (sized.maxConcurrency > 1) expect(sized.maxConcurrency - sustained).toBeLessThanOrEqual(0.5);
          // Never a whole video's worth of the limit left unused.
          expect(sustained - sized.maxConcurrency).toBeLessThan(0.5 + 1e-9);
        },
      ),
    );
  });

  it('grows with the limit', () => {
    const at = (rpm: number) => sizeBatchConcurrency({ requestsPerMinute: rpm }).maxConcurrency;
    expect(at(5)).toBe(1);
    expect(at(50)).toBeGreaterThan(at(5));
    expect(at(500)).toBeGreaterThan(at(50));
  });

  it('counts the requests the polling policy makes for one video: the submit, the polls and the result', () => {
    const sized = sizeBatchConcurrency({ requestsPerMinute: 50 });
    expect(sized.requestsPerVideo).toBeGreaterThanOrEqual(3);
    expect(sized.minutesPerVideo).toBeCloseTo(expectedCompletionSeconds(DEFAULT_BATCH_SHAPE) / 60, 6);
    expect(sized.requestsPerVideoPerMinute).toBeCloseTo(sized.requestsPerVideo / sized.minutesPerVideo, 6);
  });

  it('refuses a limit or headroom that cannot be used', () => {
    expect(() => sizeBatchConcurrency({ requestsPerMinute: 0 })).toThrow(RangeError);
    expect(() => sizeBatchConcurrency({ requestsPerMinute: Number.NaN })).toThrow(RangeError);
    expect(() => sizeBatchConcurrency({ requestsPerMinute: 50, headroom: 1.5 })).toThrow(RangeError);
  });
});
