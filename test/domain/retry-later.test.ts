// "Try again at T": the deadline, never a count, ends the loop; 429s wait for their reset.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, decideRetry, isRetryLater, type RetryContext } from '#domain/retry-later';

const base: RetryContext = {
  reason: 'upstream-unavailable',
  detail: '502',
  previousAttempts: 0,
  elapsedSeconds: 100,
  random: 0.5,
};
const { deadlineSeconds } = DEFAULT_RETRY_POLICY;

describe('decideRetry', () => {
  it('keeps retrying however many attempts came before, while the deadline allows', () => {
    expect(decideRetry({ ...base, previousAttempts: 10_000 })).toMatchObject({
      kind: 'retry',
      attempt: 10_001,
    });
  });

  it('gives up once the deadline has passed, naming the last reason', () => {
    const decision = decideRetry({ ...base, elapsedSeconds: deadlineSeconds, reason: 'rate-limited' });
    expect(decision).toMatchObject({ kind: 'give-up', attempt: 1 });
    expect(decision.kind === 'give-up' && decision.message).toMatch(/last: rate-limited: 502/);
  });

  it("waits for a 429's reset plus jitter, but does not believe a reset hours away", () => {
    expect(decideRetry({ ...base, reason: 'rate-limited', resetInSeconds: 20 })).toMatchObject({
      waitSeconds: 21.5,
    });
    expect(decideRetry({ ...base, reason: 'rate-limited', resetInSeconds: 7200 })).toMatchObject({
      waitSeconds: DEFAULT_RETRY_POLICY.throttleResetMaxWaitSeconds,
    });
  });

  it('never schedules past the deadline, and never less than the minimum wait before it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('rate-limited', 'upstream-unavailable', 'video-invalid', 'waiting for rate budget'),
        fc.nat(100),
        fc.double({ min: 0, max: deadlineSeconds * 1.2, noNaN: true }),
        fc.option(fc.double({ min: -100, max: 10_000, noNaN: true }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (reason, previousAttempts, elapsedSeconds, resetInSeconds, random) => {
          const decision = decideRetry({
            reason,
            detail: 'x',
            previousAttempts,
            elapsedSeconds,
            random,
            resetInSeconds,
          });
          if (elapsedSeconds >= deadlineSeconds) return decision.kind === 'give-up';
          if (decision.kind !== 'retry') return false;
          const remaining = deadlineSeconds - elapsedSeconds;
          return (
            decision.waitSeconds <= remaining + 1e-9 &&
            decision.waitSeconds >= Math.min(DEFAULT_RETRY_POLICY.minWaitSeconds, remaining)
          );
        },
      ),
    );
  });
});

describe('isRetryLater', () => {
  it('tells a RetryLater from a result', () => {
    expect(
      isRetryLater({ retryAt: '2030-01-01T00:00:00Z', reason: 'rate-limited', attempt: 1, detail: '' }),
    ).toBe(true);
    expect(isRetryLater({ videoUrl: 'https://x/v.mp4', metrics: {} })).toBe(false);
    expect(isRetryLater(undefined)).toBe(false);
  });
});
