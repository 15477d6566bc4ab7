import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectedCompletionSeconds, type JobShape } from '#domain/expected-duration';
import {
  DEFAULT_POLLING_POLICY,
  definePollingPolicy,
  isStrike,
  nextPoll,
  nextStrikes,
  type PollContext,
  type PollDecision,
} from '#domain/polling-policy';
import { DURATIONS, RESOLUTIONS } from '#domain/video-request';

const defaultJob: JobShape = { resolution: '2k', duration: 8, generateAudio: true, hasImage: false };
const policy = DEFAULT_POLLING_POLICY;

const context = (overrides: Partial<PollContext> = {}): PollContext => ({
  job: defaultJob,
  elapsedSeconds: 0,
  lastStatus: 'SUBMITTED',
  pollCount: 0,
  strikes: 0,
  random: 0.5,
  ...overrides,
});

const waitOf = (decision: PollDecision): number => {
  if (decision.kind !== 'wait') throw new Error(`expected a wait, got give-up: ${decision.reason}`);
  return decision.seconds;
};

const jobs: JobShape[] = RESOLUTIONS.flatMap((resolution) =>
  DURATIONS.flatMap((duration) =>
    [true, false].flatMap((generateAudio) =>
      [true, false].map((hasImage) => ({ resolution, duration, generateAudio, hasImage })),
    ),
  ),
);

describe('nextPoll: the first wait', () => {
  it.each(
    jobs.map(
      (job) =>
        [`${job.resolution}/${job.duration}s/audio=${job.generateAudio}/image=${job.hasImage}`, job] as const,
    ),
  )('lands slightly before the expected completion for %s', (_label, job) => {
    const expected = expectedCompletionSeconds(job);
    for (const random of [0, 0.5, 0.999]) {
      const wait = waitOf(nextPoll(context({ job, random })));
      expect(wait).toBeLessThan(expected);
      expect(wait).toBeGreaterThan(expected * 0.75);
    }
  });

  it('counts from the submit, so time already spent shortens it', () => {
    const fresh = waitOf(nextPoll(context()));
    const later = waitOf(nextPoll(context({ elapsedSeconds: 5 })));
    expect(fresh - later).toBeCloseTo(5, 6);
  });

  it('follows a learned expectation when the caller has one', () => {
    const wait = waitOf(nextPoll(context({ expectedSeconds: 100 })));
    expect(wait).toBeGreaterThan(75);
    expect(wait).toBeLessThan(100);
  });

  it('does not poll before the job can be done, even after an early 429 or outage', () => {
    const expected = expectedCompletionSeconds(defaultJob);
    for (const lastStatus of ['THROTTLED', 'UNAVAILABLE', 'PROCESSING']) {
      const wait = waitOf(nextPoll(context({ lastStatus, elapsedSeconds: 5, pollCount: 1, strikes: 1 })));
      expect(5 + wait).toBeGreaterThan(expected * 0.75);
    }
  });
});

describe('nextPoll: around and past the expectation', () => {
  const expected = expectedCompletionSeconds(defaultJob);

  it('polls every 1–2.5 s while the job is within its expected spread', () => {
    for (const at of [0.85, 1, 1.1, 1.2]) {
      for (const random of [0, 0.5, 0.999]) {
        const wait = waitOf(
          nextPoll(
            context({ elapsedSeconds: expected * at, lastStatus: 'PROCESSING', pollCount: 3, random }),
          ),
        );
        expect(wait).toBeGreaterThanOrEqual(1);
        expect(wait).toBeLessThanOrEqual(2.5);
      }
    }
  });

  it('backs off gradually, and capped, the further a PROCESSING job runs past its expectation', () => {
    const waitAt = (elapsedSeconds: number) =>
      waitOf(nextPoll(context({ elapsedSeconds, lastStatus: 'PROCESSING', pollCount: 10 })));
    const near = waitAt(expected * 1.2);
    const late = waitAt(expected * 2);
    const veryLate = waitAt(expected * 10);
    expect(late).toBeGreaterThan(near);
    expect(late).toBeLessThan(near * 4); // gradual, not a jump
    expect(veryLate).toBeGreaterThan(late);
    expect(veryLate).toBeLessThanOrEqual(policy.overrunMaxIntervalSeconds * (1 + policy.jitterFraction));
  });

  it('backs off when the job is still QUEUED long after submission (a queue backlog)', () => {
    const at = (lastStatus: string, elapsedSeconds: number) =>
      waitOf(nextPoll(context({ elapsedSeconds, lastStatus, pollCount: 5 })));
    expect(at('QUEUED', expected * 1.5)).toBeGreaterThan(at('PROCESSING', expected * 1.5));
    expect(at('QUEUED', expected * 2)).toBeGreaterThan(at('QUEUED', expected * 1.5));
    expect(at('QUEUED', 20 * 60)).toBeLessThanOrEqual(
      policy.queuedMaxIntervalSeconds * (1 + policy.jitterFraction),
    );
  });

  it('keeps a QUEUED job near its expectation on the short schedule', () => {
    const wait = waitOf(
      nextPoll(context({ elapsedSeconds: expected * 0.9, lastStatus: 'QUEUED', pollCount: 1 })),
    );
    expect(wait).toBeLessThanOrEqual(2.5);
  });

  it('treats an unknown status as not finished, on the normal schedule', () => {
    const unknown = nextPoll(
      context({ elapsedSeconds: expected, lastStatus: 'WARMING_UP', pollCount: 3, strikes: 1 }),
    );
    const processing = nextPoll(
      context({ elapsedSeconds: expected, lastStatus: 'PROCESSING', pollCount: 3 }),
    );
    expect(unknown).toEqual(processing);
  });

  it('spreads jobs started together with jitter', () => {
    const low = waitOf(nextPoll(context({ elapsedSeconds: expected, lastStatus: 'PROCESSING', random: 0 })));
    const high = waitOf(
      nextPoll(context({ elapsedSeconds: expected, lastStatus: 'PROCESSING', random: 0.999 })),
    );
    expect(high).toBeGreaterThan(low);
  });
});

describe('nextPoll: throttling and failures', () => {
  const elapsedSeconds = 45;

  it('waits until the rate-limit window resets, plus a little jitter', () => {
    for (const random of [0, 0.5, 0.999]) {
      const wait = waitOf(
        nextPoll(
          context({ elapsedSeconds, lastStatus: 'THROTTLED', strikes: 1, throttledUntilSeconds: 65, random }),
        ),
      );
      expect(elapsedSeconds + wait).toBeGreaterThanOrEqual(65);
      expect(elapsedSeconds + wait).toBeLessThanOrEqual(65 + policy.throttleJitterSeconds);
    }
  });

  it('caps a reset time that lies absurdly far ahead', () => {
    const wait = waitOf(
      nextPoll(
        context({ elapsedSeconds, lastStatus: 'THROTTLED', strikes: 1, throttledUntilSeconds: 10_000 }),
      ),
    );
    expect(wait).toBeLessThanOrEqual(policy.throttleMaxWaitSeconds);
  });

  it('without a reset time, backs off exponentially with full jitter, capped', () => {
    const ceilingAt = (strikes: number) =>
      waitOf(nextPoll(context({ elapsedSeconds, lastStatus: 'THROTTLED', strikes, random: 0.999 })));
    expect(ceilingAt(2)).toBeGreaterThan(ceilingAt(1));
    expect(ceilingAt(3)).toBeGreaterThan(ceilingAt(2));
    expect(ceilingAt(50)).toBeLessThanOrEqual(policy.throttleMaxWaitSeconds);
    const floor = waitOf(
      nextPoll(context({ elapsedSeconds, lastStatus: 'THROTTLED', strikes: 5, random: 0 })),
    );
    expect(floor).toBe(policy.minWaitSeconds);
  });

  it('ignores a reset time that has already passed', () => {
    const wait = waitOf(
      nextPoll(
        context({
          elapsedSeconds,
          lastStatus: 'THROTTLED',
          strikes: 3,
          throttledUntilSeconds: 10,
          random: 0.999,
        }),
      ),
    );
    expect(wait).toBeGreaterThan(policy.intervalSeconds);
  });

  it('backs off exponentially with jitter after transient failures, capped', () => {
    const at = (strikes: number, random: number) =>
      waitOf(nextPoll(context({ elapsedSeconds, lastStatus: 'UNAVAILABLE', strikes, random })));
    expect(at(1, 0)).toBeGreaterThanOrEqual(1);
    expect(at(2, 0)).toBeGreaterThan(at(1, 0));
    expect(at(4, 0)).toBeGreaterThan(at(2, 0));
    expect(at(4, 0.999)).toBeGreaterThan(at(4, 0));
    expect(at(40, 0.999)).toBeLessThanOrEqual(policy.unavailableMaxWaitSeconds);
  });
});

describe('nextPoll: the deadline', () => {
  const deadline = policy.deadlineSeconds;

  it('defaults to 40 minutes, well inside Segmind’s one-hour retention', () => {
    expect(deadline).toBe(40 * 60);
  });

  it('polls exactly at the deadline when the next poll would land after it', () => {
    const wait = waitOf(
      nextPoll(context({ elapsedSeconds: deadline - 3, lastStatus: 'QUEUED', pollCount: 99 })),
    );
    expect(wait).toBeCloseTo(3, 9);
    const throttled = waitOf(
      nextPoll(
        context({
          elapsedSeconds: deadline - 0.2,
          lastStatus: 'THROTTLED',
          strikes: 4,
          throttledUntilSeconds: deadline + 30,
        }),
      ),
    );
    expect(throttled).toBeCloseTo(0.2, 9);
  });

  it('gives up once the deadline has passed, naming the elapsed time and the last status', () => {
    const decision = nextPoll(
      context({ elapsedSeconds: deadline + 12, lastStatus: 'PROCESSING', pollCount: 140 }),
    );
    expect(decision.kind).toBe('give-up');
    if (decision.kind === 'give-up') {
      expect(decision.reason).toContain(`${deadline + 12} s`);
      expect(decision.reason).toContain('PROCESSING');
    }
    expect(nextPoll(context({ elapsedSeconds: deadline, lastStatus: 'WEIRD' })).kind).toBe('give-up');
  });

  it('honours a custom deadline', () => {
    const short = definePollingPolicy({ deadlineSeconds: 120 });
    expect(nextPoll(context({ elapsedSeconds: 120, lastStatus: 'QUEUED' }), short).kind).toBe('give-up');
    expect(waitOf(nextPoll(context({ elapsedSeconds: 119, lastStatus: 'QUEUED' }), short))).toBeCloseTo(1, 9);
  });
});

describe('nextPoll: properties over any input', () => {
  const statusArb = fc.oneof(
    fc.constantFrom('SUBMITTED', 'QUEUED', 'PROCESSING', 'THROTTLED', 'UNAVAILABLE'),
    fc.string({ maxLength: 12 }),
  );
  const contextArb = fc.record({
    job: fc.constantFrom(...jobs),
    elapsedSeconds: fc.oneof(
      fc.double({ min: 0, max: 3000, noNaN: true }),
      fc.constantFrom(Number.NaN, -5, Infinity),
    ),
    lastStatus: statusArb,
    pollCount: fc.nat(500),
    strikes: fc.oneof(fc.integer({ min: -2, max: 200 }), fc.constantFrom(Number.NaN, Infinity)),
    throttledUntilSeconds: fc.option(fc.double({ min: -100, max: 10_000, noNaN: false }), { nil: undefined }),
    random: fc.oneof(
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.constantFrom(Number.NaN, 1, -1),
    ),
  });

  it('waits are finite, never negative, ≥ 1 s unless clamped at the deadline, never past it', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        const decision = nextPoll(ctx);
        const elapsed = Number.isNaN(ctx.elapsedSeconds) ? 0 : Math.max(0, ctx.elapsedSeconds);
        if (decision.kind === 'give-up') {
          expect(elapsed).toBeGreaterThanOrEqual(policy.deadlineSeconds - 1e-6);
          return;
        }
        expect(Number.isFinite(decision.seconds)).toBe(true);
        expect(decision.seconds).toBeGreaterThan(0);
        expect(elapsed + decision.seconds).toBeLessThanOrEqual(policy.deadlineSeconds + 1e-6);
        const clampedAtDeadline = Math.abs(elapsed + decision.seconds - policy.deadlineSeconds) < 1e-6;
        if (!clampedAtDeadline) expect(decision.seconds).toBeGreaterThanOrEqual(policy.minWaitSeconds);
      }),
      { numRuns: 2000 },
    );
  });

  it('a PROCESSING job waits no less the later it is (past its first poll), for the same draw', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...jobs),
        fc.double({ min: 0, max: 2000, noNaN: true }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (job, a, delta, random) => {
          const firstPoll = expectedCompletionSeconds(job) * policy.firstPollFraction;
          fc.pre(a >= firstPoll);
          const at = (elapsedSeconds: number) =>
            waitOf(
              nextPoll(context({ job, elapsedSeconds, lastStatus: 'PROCESSING', pollCount: 3, random })),
            );
          // Away from the deadline clamp, the interval is non-decreasing in elapsed time.
          fc.pre(a + delta + 20 < policy.deadlineSeconds);
          expect(at(a + delta)).toBeGreaterThanOrEqual(at(a) - 1e-9);
        },
      ),
    );
  });

  it('the poll time never moves earlier as the job ages (no poll storms)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...jobs),
        fc.double({ min: 0, max: 2300, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.constantFrom('QUEUED', 'PROCESSING', 'SUBMITTED'),
        (job, a, delta, lastStatus) => {
          const pollAt = (elapsedSeconds: number) =>
            elapsedSeconds +
            waitOf(nextPoll(context({ job, elapsedSeconds, lastStatus, pollCount: 1, random: 0.5 })));
          fc.pre(a + delta + 1 < policy.deadlineSeconds);
          expect(pollAt(a + delta)).toBeGreaterThanOrEqual(pollAt(a) - 1e-9);
        },
      ),
    );
  });
});

describe('strikes', () => {
  it('count throttled, failed and unknown-status polls, and reset on a known status', () => {
    expect(isStrike('THROTTLED')).toBe(true);
    expect(isStrike('UNAVAILABLE')).toBe(true);
    expect(isStrike('SOMETHING_NEW')).toBe(true);
    expect(isStrike('QUEUED')).toBe(false);
    expect(isStrike('PROCESSING')).toBe(false);
    expect(nextStrikes(2, 'THROTTLED')).toBe(3);
    expect(nextStrikes(2, 'PROCESSING')).toBe(0);
    expect(nextStrikes(Number.NaN, 'UNAVAILABLE')).toBe(1);
  });
});

describe('definePollingPolicy', () => {
  it('changes only the named knobs', () => {
    const custom = definePollingPolicy({ intervalSeconds: 3 });
    expect(custom.intervalSeconds).toBe(3);
    expect(custom.deadlineSeconds).toBe(DEFAULT_POLLING_POLICY.deadlineSeconds);
  });

  it('refuses knobs that would make waits zero, negative or undefined', () => {
    expect(() => definePollingPolicy({ minWaitSeconds: 0 })).toThrow(/minWaitSeconds/);
    expect(() => definePollingPolicy({ intervalSeconds: -1 })).toThrow(/intervalSeconds/);
    expect(() => definePollingPolicy({ deadlineSeconds: Number.NaN })).toThrow(/deadlineSeconds/);
    expect(() => definePollingPolicy({ jitterFraction: 1 })).toThrow(/jitterFraction/);
  });
});
