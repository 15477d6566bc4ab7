import { describe, expect, it } from 'vitest';
import { fixedInterval, simulateBaseline } from '#bench/baselines';
import {
  CONFIGURATIONS,
  configurationId,
  DEFAULT_CONFIGURATION_ID,
  type JobConfiguration,
  POLICY_ID,
  simulatePolicy,
  simulatePollingMatrix,
  strategyStats,
  videosPerHour,
} from '#bench/polling';
import type { LatencyModel } from '#emulator/control';
import { DEFAULT_LATENCY_MODEL } from '#emulator/index';

/** Every job of every shape completes at exactly 47 s: queue 2 s + inference 45 s, no spread, no cold workers. */
const FIXED_47S: LatencyModel = {
  ...DEFAULT_LATENCY_MODEL,
  queueMedianSeconds: 2,
  queueSigma: 0,
  inferenceBaseSeconds: 45,
  resolutionFactor: { '1080p': 1, '2k': 1, '4k': 1 },
  durationFactor: { '6': 1, '8': 1, '10': 1 },
  audioFactor: 1,
  imageFactor: 1,
  inferenceSigma: 0,
  coldWorkerProbability: 0,
};

const defaultJob = CONFIGURATIONS.find((c) => c.id === DEFAULT_CONFIGURATION_ID) as JobConfiguration;

describe('the configuration matrix', () => {
  it('covers 1080p/2k/4k × 6/8/10 s × audio on/off × with/without an image, each once', () => {
    expect(CONFIGURATIONS).toHaveLength(36);
    expect(new Set(CONFIGURATIONS.map((c) => c.id)).size).toBe(36);
    expect(defaultJob).toMatchObject({ resolution: '2k', duration: 8, generateAudio: true, hasImage: false });
    expect(configurationId({ resolution: '4k', duration: 10, generateAudio: false, hasImage: true })).toBe(
      '4k/10s/silent/image',
    );
  });
});

describe('videosPerHour', () => {
  it('is the limit per hour divided by the mean requests per video', () => {
    expect(videosPerHour(7.5, 50)).toBe(400);
    expect(videosPerHour(27)).toBeCloseTo(3000 / 27, 10);
    expect(videosPerHour(0)).toBeNaN();
  });
});

describe('simulatePollingMatrix', () => {
  const run = (seed: number, model: LatencyModel = DEFAULT_LATENCY_MODEL) =>
    simulatePollingMatrix({
      jobsPerConfiguration: 40,
      seed,
      configurations: [defaultJob],
      latencyModel: model,
    });

  it('counts requests per video exactly when every job completes at the same moment', () => {
    const [row] = run(1, FIXED_47S).configurations;
    const everyTwo = row?.strategies.find((s) => s.strategy === 'fixed-2s');
    // Polls at 0, 2, …, 48: 25 polls + submit + result; seen 1 s late.
    expect(everyTwo?.requests).toMatchObject({ min: 27, median: 27, p95: 27, max: 27, mean: 27 });
    expect(everyTwo?.detectionDelaySeconds.median).toBe(1);
    expect(everyTwo?.videosPerHour).toBeCloseTo(3000 / 27, 10);
    expect(row?.completionSeconds.median).toBe(47);
  });

  it('runs every strategy on every drawn job; a fixed loop is never later than one interval', () => {
    const [row] = run(3).configurations;
    for (const strategy of row?.strategies ?? []) expect(strategy.requests.count).toBe(40);
    const interval = (id: string) =>
      row?.strategies.find((s) => s.strategy === id)?.detectionDelaySeconds.max;
    expect(interval('fixed-1s')).toBeLessThan(1);
    expect(interval('fixed-2s')).toBeLessThan(2);
    expect(interval('fixed-30s')).toBeLessThan(30);
  });

  it('is reproducible with the same seed and differs with another', () => {
    expect(run(7)).toEqual(run(7));
    expect(run(7).configurations[0]?.completionSeconds).not.toEqual(
      run(8).configurations[0]?.completionSeconds,
    );
  });

  it('pools every configuration per strategy in the aggregate', () => {
    const report = simulatePollingMatrix({
      jobsPerConfiguration: 10,
      seed: 1,
      configurations: CONFIGURATIONS.slice(0, 3),
    });
    expect(report.aggregate.map((s) => s.strategy)).toEqual([
      POLICY_ID,
      'fixed-2s',
      'fixed-1s',
      'fixed-30s',
      'doubling-30s-60s',
    ]);
    for (const strategy of report.aggregate) expect(strategy.requests.count).toBe(30);
  });

  it('refuses a job count that is not a positive integer', () => {
    expect(() => simulatePollingMatrix({ jobsPerConfiguration: 0, seed: 1 })).toThrow(RangeError);
  });
});

describe('simulatePolicy', () => {
  it('runs the project policy: first poll near the expected time, not at once', () => {
    const outcome = simulatePolicy(defaultJob, { queueSeconds: 2, completesAtSeconds: 47 }, () => 0.5);
    const sdk = simulateBaseline(fixedInterval(2, 'test'), 47);
    expect(outcome.gaveUp).toBe(false);
    expect(outcome.requests).toBeLessThanOrEqual(8);
    expect(outcome.requests).toBeLessThan(sdk.requests);
  });
});

describe('strategyStats', () => {
  it('leaves jobs given up on out of the delay but counts their requests', () => {
    const stats = strategyStats('x', 'x', [
      { requests: 5, polls: 3, detectionDelaySeconds: 1, gaveUp: false },
      { requests: 40, polls: 39, detectionDelaySeconds: Number.POSITIVE_INFINITY, gaveUp: true },
    ]);
    expect(stats.gaveUp).toBe(1);
    expect(stats.detectionDelaySeconds.count).toBe(1);
    expect(stats.detectionDelaySeconds.max).toBe(1);
    expect(stats.requests.mean).toBe(22.5);
    expect(stats.videosPerHour).toBeCloseTo(3000 / 22.5, 10);
  });
});
