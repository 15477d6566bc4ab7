import { describe, expect, it } from 'vitest';
import {
  BASELINES,
  doublingInterval,
  fixedInterval,
  SDK_DEFAULT_TIMEOUT_SECONDS,
  simulateBaseline,
  stateMachineLoopPolls,
} from '#bench/baselines';

const everyTwo = fixedInterval(2, 'test');

describe('simulateBaseline: the SDK loop (poll at once, sleep, poll …, then fetch the result)', () => {
  it('counts the submit, every poll and the result fetch', () => {
    // Polls at 0, 2, …, 48: the 25th sees a job done at 47 s.
    expect(simulateBaseline(everyTwo, 47)).toEqual({
      requests: 27,
      polls: 25,
      detectionDelaySeconds: 1,
      gaveUp: false,
    });
  });

  it('a completion exactly on a poll is seen by that poll', () => {
    const outcome = simulateBaseline(everyTwo, 46);
    expect(outcome.polls).toBe(24);
    expect(outcome.detectionDelaySeconds).toBe(0);
  });

  it('a job already done is seen by the first poll', () => {
    expect(simulateBaseline(everyTwo, 0)).toMatchObject({ requests: 3, polls: 1, detectionDelaySeconds: 0 });
  });

  it('fixed 30 s polls at 0, 30 and 60 for a 47 s job', () => {
    expect(simulateBaseline(fixedInterval(30, 'test'), 47)).toMatchObject({
      requests: 5,
      polls: 3,
      detectionDelaySeconds: 13,
    });
  });

  it('30 s doubling to 60 s polls at 0, 30, 90, 150 …', () => {
    const backoff = doublingInterval(30, 60, 'test');
    expect(simulateBaseline(backoff, 47)).toMatchObject({ polls: 3, detectionDelaySeconds: 43 });
    expect(simulateBaseline(backoff, 120)).toMatchObject({ polls: 4, detectionDelaySeconds: 30 });
    expect(backoff.sleepAfterPoll(0)).toBe(30);
    expect(backoff.sleepAfterPoll(1)).toBe(60);
    expect(backoff.sleepAfterPoll(50)).toBe(60);
  });

  it("gives up after the SDK's default timeout, with no result fetch and no delay", () => {
    const outcome = simulateBaseline(fixedInterval(30, 'test'), SDK_DEFAULT_TIMEOUT_SECONDS + 100);
    expect(outcome.gaveUp).toBe(true);
    expect(outcome.detectionDelaySeconds).toBe(Number.POSITIVE_INFINITY);
    expect(outcome.requests).toBe(outcome.polls + 1);
  });

  it('compares the policy with the four baselines the issue names', () => {
    expect(BASELINES.map((b) => b.id)).toEqual(['fixed-2s', 'fixed-1s', 'fixed-30s', 'doubling-30s-60s']);
  });

  it('refuses intervals that would never advance the clock', () => {
    expect(() => fixedInterval(0, 'test')).toThrow(RangeError);
    expect(() => doublingInterval(30, 10, 'test')).toThrow(RangeError);
  });
});

describe('stateMachineLoopPolls: a fixed cadence as Wait → PollStatus → Choice', () => {
  it('waits a whole interval before every poll', () => {
    expect(stateMachineLoopPolls(47, 2)).toBe(24);
    expect(stateMachineLoopPolls(46, 2)).toBe(23);
    expect(stateMachineLoopPolls(0.5, 2)).toBe(1);
  });
});
