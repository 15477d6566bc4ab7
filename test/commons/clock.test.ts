import { describe, expect, it } from 'vitest';
import { createJobClock, jobClockFromEnv, parseTimeScale } from '#commons/clock';
import { ENV } from '#commons/env';

const t0 = Date.parse('2025-01-01T00:00:00.000Z');

describe('createJobClock', () => {
  it('at time scale 1, job seconds are real seconds', () => {
    const clock = createJobClock({ timeScale: 1, now: () => t0 + 30_000 });
    expect(clock.now().toISOString()).toBe('2025-01-01T00:00:30.000Z');
    expect(clock.elapsedSeconds('2025-01-01T00:00:00.000Z')).toBe(30);
    expect(clock.at(12.5).toISOString()).toBe('2025-01-01T00:00:42.500Z');
  });

  it('at time scale 60, one real second is a job minute, both ways', () => {
    const clock = createJobClock({ timeScale: 60, now: () => t0 + 2_000 });
    expect(clock.elapsedSeconds('2025-01-01T00:00:00.000Z')).toBe(120);
    expect(clock.at(60).toISOString()).toBe('2025-01-01T00:00:03.000Z');
  });

  it('round-trips: a wait scheduled with at() is the elapsed time seen when it fires', () => {
    let now = t0;
    const clock = createJobClock({ timeScale: 10, now: () => now });
    const start = clock.now().toISOString();
    now = clock.at(47).getTime();
    expect(clock.elapsedSeconds(start)).toBeCloseTo(47, 9);
  });

  it('rejects a non-positive or non-numeric time scale', () => {
    for (const timeScale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createJobClock({ timeScale })).toThrow(/time scale must be a positive number/);
    }
  });

  it('rejects an unreadable timestamp and a non-finite wait instead of returning NaN', () => {
    const clock = createJobClock({ timeScale: 1, now: () => t0 });
    expect(() => clock.elapsedSeconds('yesterday-ish')).toThrow(/ISO-8601/);
    expect(() => clock.at(Number.NaN)).toThrow(/finite/);
  });

  it('uses the real clock by default', () => {
    const before = Date.now();
    const now = createJobClock({ timeScale: 1 }).now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
  });
});

describe('time scale from the environment', () => {
  it('defaults to 1 when unset or empty', () => {
    expect(parseTimeScale(undefined)).toBe(1);
    expect(parseTimeScale('')).toBe(1);
    expect(jobClockFromEnv({}).timeScale).toBe(1);
  });

  it(`reads ${ENV.timeScale}`, () => {
    expect(parseTimeScale(' 20 ')).toBe(20);
    expect(parseTimeScale('0.5')).toBe(0.5);
    const clock = jobClockFromEnv({ [ENV.timeScale]: '30' }, () => t0 + 1_000);
    expect(clock.elapsedSeconds(new Date(t0).toISOString())).toBe(30);
  });

  it('rejects bad values with a message naming the variable', () => {
    for (const raw of ['0', '-2', 'fast', 'NaN', 'Infinity', '1e400']) {
      expect(() => parseTimeScale(raw)).toThrow(
        new RegExp(`${ENV.timeScale} must be a positive number.*"${raw}"`),
      );
    }
  });
});
