// `npm run soak`'s command line.
import { describe, expect, it } from 'vitest';
import { UsageError } from '#local/cli';
import { parseSoakCommand } from '#local/soak/options';

describe('parseSoakCommand', () => {
  it('defaults to the issue soak: 500 jobs, 25 % faults, 50 rpm, arrivals well inside the limit', () => {
    expect(parseSoakCommand([])).toEqual({
      jobs: 500,
      faultRate: 0.25,
      seed: 1,
      timeScale: 20,
      rateLimitPerMinute: 50,
      jobsPerMinute: 6.25,
      logLevel: 'INFO',
    });
  });

  it('reads every option', () => {
    expect(
      parseSoakCommand([
        ...['--jobs', '200', '--fault-rate', '0.2', '--seed', '7', '--time-scale', '150'],
        ...['--rate-limit', '100', '--jobs-per-minute', '12', '--log-level', 'DEBUG'],
      ]),
    ).toEqual({
      jobs: 200,
      faultRate: 0.2,
      seed: 7,
      timeScale: 150,
      rateLimitPerMinute: 100,
      jobsPerMinute: 12,
      logLevel: 'DEBUG',
    });
    expect(parseSoakCommand(['-h'])).toBe('help');
  });

  it.each([
    [['--jobs', '2.5'], /jobs/],
    [['--fault-rate', '1.2'], /fault-rate/],
    [['--seed', 'x'], /seed/],
    [['--time-scale', '0'], /time-scale/],
    [['--nope'], /nope/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSoakCommand(argv)).toThrow(UsageError);
    expect(() => parseSoakCommand(argv)).toThrow(message);
  });
});
