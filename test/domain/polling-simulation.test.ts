import { describe, expect, it } from 'vitest';
import { expectedCompletionSeconds, type JobShape } from '#domain/expected-duration';
import { DEFAULT_POLLING_POLICY, definePollingPolicy, nextPoll } from '#domain/polling-policy';
import { simulatePolling } from '#domain/polling-simulation';

const job: JobShape = { resolution: '2k', duration: 8, generateAudio: true, hasImage: false };
const half = () => 0.5;

/** The times the default policy polls a job that never finishes, for a fixed draw of 0.5. */
const pollTimes = (count: number): number[] => {
  const times: number[] = [];
  let elapsedSeconds = 0;
  let lastStatus = 'SUBMITTED';
  for (let pollCount = 0; pollCount < count; pollCount++) {
    const decision = nextPoll({ job, elapsedSeconds, lastStatus, pollCount, strikes: 0, random: 0.5 });
    if (decision.kind !== 'wait') throw new Error('unexpected give-up');
    elapsedSeconds += decision.seconds;
    times.push(elapsedSeconds);
    lastStatus = 'PROCESSING';
  }
  return times;
};

describe('simulatePolling', () => {
  it('a job completing exactly at a poll is detected with no delay', () => {
    const [, , third] = pollTimes(3);
    const result = simulatePolling({ job, completesAtSeconds: third ?? Number.NaN, random: half });
    expect(result.detectionDelaySeconds).toBe(0);
    expect(result.polls).toBe(3);
  });

  it('counts the submit, every poll and the result fetch', () => {
    const [, second] = pollTimes(2);
    const result = simulatePolling({ job, completesAtSeconds: (second ?? Number.NaN) - 0.5, random: half });
    expect(result.polls).toBe(2);
    expect(result.requests).toBe(1 + 2 + 1);
    expect(result.detectionDelaySeconds).toBeCloseTo(0.5, 9);
    expect(result.gaveUp).toBe(false);
  });

  it('a job done before the first poll costs three requests and waits for that poll', () => {
    const [first] = pollTimes(1);
    const result = simulatePolling({ job, completesAtSeconds: 10, random: half });
    expect(result.requests).toBe(3);
    expect(result.detectionDelaySeconds).toBeCloseTo((first ?? Number.NaN) - 10, 9);
  });

  it('a job that never completes ends at the deadline: no result fetch, infinite delay', () => {
    const policy = definePollingPolicy({ deadlineSeconds: 300 });
    const result = simulatePolling({
      job,
      completesAtSeconds: Number.POSITIVE_INFINITY,
      policy,
      random: half,
    });
    expect(result.gaveUp).toBe(true);
    expect(result.requests).toBe(1 + result.polls);
    expect(result.detectionDelaySeconds).toBe(Number.POSITIVE_INFINITY);
    expect(result.reason).toMatch(/300 s/);
  });

  it('a job that completes after its deadline is given up, never seen', () => {
    const policy = definePollingPolicy({ deadlineSeconds: 100 });
    const result = simulatePolling({ job, completesAtSeconds: 100.5, policy, random: half });
    expect(result.gaveUp).toBe(true);
  });

  it('a job completing exactly at the deadline is still seen by the clamped last poll', () => {
    const policy = definePollingPolicy({ deadlineSeconds: 100 });
    const result = simulatePolling({ job, completesAtSeconds: 100, policy, random: half });
    expect(result.gaveUp).toBe(false);
    expect(result.detectionDelaySeconds).toBeCloseTo(0, 6);
  });

  it('a FAILED job ends the polling without a result fetch', () => {
    const result = simulatePolling({
      job,
      completesAtSeconds: 1000,
      random: half,
      respond: (_at, index) => (index === 1 ? { status: 'FAILED' } : undefined),
    });
    expect(result.polls).toBe(2);
    expect(result.requests).toBe(1 + 2);
  });

  it('throttled polls count as requests and the next poll honours the reset time', () => {
    const seen: number[] = [];
    const result = simulatePolling({
      job,
      completesAtSeconds: 50,
      random: half,
      respond: (at, index) => {
        seen.push(at);
        return index === 0 ? { status: 'THROTTLED', throttledUntilSeconds: at + 30 } : undefined;
      },
    });
    const [first, second] = seen;
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(30);
    expect(result.polls).toBe(2);
    expect(result.requests).toBe(4);
  });

  it('time spent after the submit and per poll moves the polls later', () => {
    const plain = simulatePolling({ job, completesAtSeconds: 60, random: half });
    const slow = simulatePolling({
      job,
      completesAtSeconds: 60,
      random: half,
      submitToFirstPoll: 1,
      pollOverheadSeconds: 1,
    });
    expect(slow.polls).toBeLessThan(plain.polls);
  });

  it('with the default policy a job finishing on expectation costs at most 7 requests, seen within 2.5 s', () => {
    const expected = expectedCompletionSeconds(job);
    for (const random of [0, 0.3, 0.7, 0.999]) {
      const result = simulatePolling({ job, completesAtSeconds: expected, random: () => random });
      expect(result.requests).toBeLessThanOrEqual(7);
      expect(result.detectionDelaySeconds).toBeLessThanOrEqual(2.5);
    }
  });

  it('a cold worker 40 s late is still seen within a few seconds and under 25 requests', () => {
    const result = simulatePolling({
      job,
      completesAtSeconds: expectedCompletionSeconds(job) + 40,
      random: half,
      policy: DEFAULT_POLLING_POLICY,
    });
    expect(result.requests).toBeLessThan(25);
    expect(result.detectionDelaySeconds).toBeLessThan(6);
  });
});
