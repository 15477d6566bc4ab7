// The latency model: Segmind's public figures (≈46–48 s for the default job, 30–120 s overall).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LATENCY_MODEL,
  drawLatency,
  type LatencyRequest,
  medianInferenceSeconds,
} from '#emulator/latency-model';
import { mulberry32 } from '#emulator/random';

const DEFAULT_JOB: LatencyRequest = { resolution: '2k', duration: 8, generate_audio: true, image: null };

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const ALL_SHAPES: LatencyRequest[] = (['1080p', '2k', '4k'] as const).flatMap((resolution) =>
  ([6, 8, 10] as const).flatMap((duration) =>
    [true, false].flatMap((generate_audio) =>
      [null, 'https://example.com/first-frame.png'].map((image) => ({
        resolution,
        duration,
        generate_audio,
        image,
      })),
    ),
  ),
);

describe('default latency model', () => {
  it('puts the median total of the default job (2k, 8 s, audio) within 44–50 s', () => {
    const random = mulberry32(2024);
    const totals = Array.from({ length: 20_000 }, () => {
      const draw = drawLatency(DEFAULT_LATENCY_MODEL, DEFAULT_JOB, random);
      return draw.queueSeconds + draw.inferenceSeconds;
    });
    const m = median(totals);
    expect(m).toBeGreaterThanOrEqual(44);
    expect(m).toBeLessThanOrEqual(50);
  });

  it('keeps every non-cold draw of every job shape within 30–120 s, and cold workers occasional', () => {
    const random = mulberry32(77);
    let cold = 0;
    let draws = 0;
    for (const shape of ALL_SHAPES) {
      for (let i = 0; i < 2000; i += 1) {
        const draw = drawLatency(DEFAULT_LATENCY_MODEL, shape, random);
        draws += 1;
        if (draw.coldWorker) {
          cold += 1;
          continue;
        }
        const total = draw.queueSeconds + draw.inferenceSeconds;
        expect(total).toBeGreaterThanOrEqual(30);
        expect(total).toBeLessThanOrEqual(120);
      }
    }
    expect(cold / draws).toBeGreaterThan(0.01);
    expect(cold / draws).toBeLessThan(0.06);
  });

  it('runs longer for bigger, longer, noisier and image jobs', () => {
    const m = (request: Partial<LatencyRequest>) =>
      medianInferenceSeconds(DEFAULT_LATENCY_MODEL, { ...DEFAULT_JOB, ...request });
    expect(m({ resolution: '1080p' })).toBeLessThan(m({}));
    expect(m({ resolution: '4k' })).toBeGreaterThan(m({}));
    expect(m({ duration: 6 })).toBeLessThan(m({ duration: 10 }));
    expect(m({ generate_audio: false })).toBeLessThan(m({}));
    expect(m({ image: 'https://example.com/a.png' })).toBeGreaterThan(m({}));
    expect(m({})).toBeCloseTo(DEFAULT_LATENCY_MODEL.inferenceBaseSeconds, 6);
  });

  it('is a pure function of the random stream', () => {
    const drawMany = (seed: number) => {
      const random = mulberry32(seed);
      return ALL_SHAPES.map((shape) => drawLatency(DEFAULT_LATENCY_MODEL, shape, random));
    };
    expect(drawMany(5)).toEqual(drawMany(5));
    expect(drawMany(5)).not.toEqual(drawMany(6));
  });

  it('honours a custom model without bounds', () => {
    const fast = { ...DEFAULT_LATENCY_MODEL, inferenceBaseSeconds: 1, queueMedianSeconds: 0.1 };
    delete (fast as { totalRangeSeconds?: unknown }).totalRangeSeconds;
    const draw = drawLatency({ ...fast, coldWorkerProbability: 0 }, DEFAULT_JOB, mulberry32(1));
    expect(draw.queueSeconds + draw.inferenceSeconds).toBeLessThan(5);
  });
});
