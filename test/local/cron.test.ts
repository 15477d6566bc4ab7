// The local evaluator of Scheduler expressions: the times it names are the ones AWS documents, daylight
// saving included, and what it does not support is refused with a message that says so.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CronExpression, instantsOf, parseSchedule, ScheduleExpressionError, wallTimeOf } from '#local/cron';

/** The next `count` runs after `from`, as ISO strings. */
const runs = (expression: string, timeZone: string, from: string, count = 3): string[] => {
  const schedule = parseSchedule(expression, { timeZone });
  const out: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i += 1) {
    const next = schedule.next(after);
    if (next === undefined) break;
    out.push(next.toISOString());
    after = next;
  }
  return out;
};

describe('cron expressions', () => {
  it('runs at the wall-clock time of its zone', () => {
    expect(runs('cron(0 9 * * ? *)', 'Europe/Paris', '2026-01-05T07:00:00Z')).toEqual([
      '2026-01-05T08:00:00.000Z',
      '2026-01-06T08:00:00.000Z',
      '2026-01-07T08:00:00.000Z',
    ]);
    // Summer time: 09:00 in Paris is 07:00 UTC.
    expect(runs('cron(0 9 * * ? *)', 'Europe/Paris', '2026-07-01T12:00:00Z', 1)).toEqual([
      '2026-07-02T07:00:00.000Z',
    ]);
    expect(runs('cron(0 9 * * ? *)', 'UTC', '2026-01-05T09:00:00Z', 1)).toEqual(['2026-01-06T09:00:00.000Z']);
  });

  it('reads names, lists, ranges and steps', () => {
    // Friday 2 January 2026, after the last run of the day: next is Monday 08:00.
    expect(runs('cron(0/15 8-10 ? * MON-FRI *)', 'UTC', '2026-01-02T10:50:00Z', 3)).toEqual([
      '2026-01-05T08:00:00.000Z',
      '2026-01-05T08:15:00.000Z',
      '2026-01-05T08:30:00.000Z',
    ]);
    expect(runs('cron(5,35 0 1 JAN,jul ? 2027)', 'UTC', '2026-06-01T00:00:00Z', 3)).toEqual([
      '2027-01-01T00:05:00.000Z',
      '2027-01-01T00:35:00.000Z',
      '2027-07-01T00:05:00.000Z',
    ]);
    // Day-of-week counts from 1 = Sunday.
    expect(runs('cron(0 12 ? * 1 *)', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-01-04T12:00:00.000Z',
    ]);
    expect(runs('cron(10-40/15 6 * * ? *)', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T06:10:00.000Z',
      '2026-01-01T06:25:00.000Z',
      '2026-01-01T06:40:00.000Z',
    ]);
  });

  it('skips days that do not exist and ends after its last year', () => {
    expect(runs('cron(0 0 29 2 ? *)', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
    expect(runs('cron(0 0 31 4 ? *)', 'UTC', '2026-01-01T00:00:00Z')).toEqual([]);
    expect(runs('cron(0 0 1 1 ? 2026)', 'UTC', '2026-01-01T00:00:00Z')).toEqual([]);
  });

  describe('across daylight saving time (Europe/Paris, 2026)', () => {
    it('does not run at a time the clocks skip in spring', () => {
      // 29 March: 02:00 becomes 03:00, there is no 02:30.
      expect(runs('cron(30 2 * * ? *)', 'Europe/Paris', '2026-03-28T12:00:00Z', 2)).toEqual([
        '2026-03-30T00:30:00.000Z',
        '2026-03-31T00:30:00.000Z',
      ]);
      expect(runs('cron(0 * * * ? *)', 'Europe/Paris', '2026-03-28T23:30:00Z', 3)).toEqual([
        '2026-03-29T00:00:00.000Z', // 01:00 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:00 never came
        '2026-03-29T02:00:00.000Z',
      ]);
    });

    it('runs once at a time the clocks show twice in autumn, the first time', () => {
      // 25 October: 03:00 becomes 02:00, 02:30 happens at 00:30Z and again at 01:30Z.
      expect(runs('cron(30 2 * * ? *)', 'Europe/Paris', '2026-10-24T12:00:00Z', 2)).toEqual([
        '2026-10-25T00:30:00.000Z',
        '2026-10-26T01:30:00.000Z',
      ]);
      expect(runs('cron(0/30 * * * ? *)', 'Europe/Paris', '2026-10-24T23:50:00Z', 4)).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T02:00:00.000Z', // 03:00 CET: 02:00 and 02:30 CET are repeats
        '2026-10-25T02:30:00.000Z',
      ]);
    });

    it('does not run a repeated time again when asked from inside the repeat', () => {
      // From 02:10 CET (the second 02:10): 02:30 already ran at 00:30Z.
      expect(runs('cron(30 2 * * ? *)', 'Europe/Paris', '2026-10-25T01:10:00Z', 1)).toEqual([
        '2026-10-26T01:30:00.000Z',
      ]);
    });
  });

  it.each([
    ['cron(0 9 L * ? *)', 'L, W or #'],
    ['cron(0 9 ? * 6L *)', 'L, W or #'],
    ['cron(0 9 15W * ? *)', 'L, W or #'],
    ['cron(0 9 LW * ? *)', 'L, W or #'],
    ['cron(0 9 ? * 2#1 *)', 'L, W or #'],
    ['cron(0 9 * * * *)', 'one of day-of-month and day-of-week must be ?'],
    ['cron(0 9 ? * ? *)', 'one of day-of-month and day-of-week must be ?'],
    ['cron(0 9 * * ?)', 'needs six fields'],
    ['cron(60 9 * * ? *)', 'minutes: 60 is out of range 0-59'],
    ['cron(0 9 * * ? 1969)', 'year: 1969 is out of range 1970-2199'],
    ['cron(0 9 ? * FRI-MON *)', 'goes backwards'],
    ['cron(0/0 9 * * ? *)', 'step'],
    ['cron(0 ? * * ? *)', '? is only for day-of-month or day-of-week'],
    ['cron(0 9 * FOO ? *)', 'month: "FOO" is not a value'],
    ['rate(0 minutes)', 'rate(<positive integer>'],
    ['rate(5 weeks)', 'rate(<positive integer>'],
    ['every day at nine', 'expected cron(…), rate(…) or at(…)'],
  ])('refuses %s clearly', (expression, message) => {
    expect(() => parseSchedule(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseSchedule(expression)).toThrow(message);
  });

  it('names the expression a field error comes from', () => {
    expect(() => parseSchedule('cron(0 9 L * ? *)')).toThrow(/^cron\(0 9 L \* \? \*\) day-of-month: "L"/);
  });

  it('refuses a time zone Intl does not know', () => {
    expect(() => parseSchedule('cron(0 9 * * ? *)', { timeZone: 'Mars/Olympus' })).toThrow(
      'Mars/Olympus is not an IANA time zone',
    );
  });
});

describe('rate and at expressions', () => {
  it('runs a rate every interval after the schedule was created, not at creation', () => {
    const start = new Date('2026-01-05T09:00:00Z');
    const schedule = parseSchedule('rate(5 minutes)', { start });
    expect(schedule.next(start)?.toISOString()).toBe('2026-01-05T09:05:00.000Z');
    expect(schedule.next(new Date('2026-01-05T09:07:00Z'))?.toISOString()).toBe('2026-01-05T09:10:00.000Z');
    expect(schedule.next(new Date('2026-01-05T09:10:00Z'))?.toISOString()).toBe('2026-01-05T09:15:00.000Z');
  });

  it('counts a day as 24 hours, whatever the clocks do', () => {
    const start = new Date('2026-03-28T12:00:00Z');
    const schedule = parseSchedule('rate(1 day)', { timeZone: 'Europe/Paris', start });
    expect(schedule.next(new Date('2026-03-29T00:00:00Z'))?.toISOString()).toBe('2026-03-29T12:00:00.000Z');
  });

  it('runs at() once, at the wall-clock time of its zone', () => {
    const schedule = parseSchedule('at(2026-10-25T02:30:00)', { timeZone: 'Europe/Paris' });
    expect(schedule.next(new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(schedule.next(new Date('2026-10-25T00:30:00Z'))).toBeUndefined();
    expect(
      parseSchedule('at(2026-03-29T02:30:00)', { timeZone: 'Europe/Paris' }).next(new Date(0)),
    ).toBeUndefined();
  });
});

describe('wall-clock times in a zone', () => {
  it('finds none, one or two instants for a wall time', () => {
    const paris = 'Europe/Paris';
    expect(instantsOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, paris)).toEqual([]);
    expect(instantsOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, paris)).toEqual([
      new Date('2026-10-25T00:30:00Z'),
      new Date('2026-10-25T01:30:00Z'),
    ]);
    expect(instantsOf({ year: 2026, month: 1, day: 5, hour: 9, minute: 0 }, 'Asia/Kolkata')).toEqual([
      new Date('2026-01-05T03:30:00Z'),
    ]);
  });
});

// ---- properties ----

const ZONES = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  // Half an hour of daylight saving.
  'Australia/Lord_Howe',
] as const;

const numberField = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min, max }).map(String),
    fc.integer({ min: 1, max: Math.max(1, Math.floor((max - min) / 2)) }).map((step) => `*/${step}`),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
      .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc
      .uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 })
      .map((values) => values.join(',')),
  );

/** Expressions that run often enough to check against every minute of a few days. */
const frequentCron: fc.Arbitrary<string> = fc
  .tuple(
    numberField(0, 59),
    numberField(0, 23),
    fc.oneof(
      fc.constant(['*', '?']),
      fc.constant(['?', '*']),
      fc.constant(['?', 'MON-FRI']),
      fc
        .uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 })
        .map((days) => ['?', days.join(',')]),
      fc
        .uniqueArray(fc.integer({ min: 1, max: 31 }), { minLength: 3, maxLength: 10 })
        .map((days) => [days.join(','), '?']),
    ),
  )
  .map(([minutes, hours, [dom, dow]]) => `cron(${minutes} ${hours} ${dom} * ${dow} *)`);

/** Instants around the daylight-saving changes of the zones above, and anywhere in between. */
const instant = fc.oneof(
  fc.date({
    min: new Date('2024-01-01T00:00:00Z'),
    max: new Date('2030-12-31T00:00:00Z'),
    noInvalidDate: true,
  }),
  fc
    .tuple(
      fc.constantFrom(
        '2026-03-29T01:00:00Z',
        '2026-10-25T01:00:00Z',
        '2026-03-08T07:00:00Z',
        '2026-11-01T06:00:00Z',
        '2026-04-05T15:00:00Z',
        '2026-10-04T15:30:00Z',
      ),
      fc.integer({ min: -3 * 3600, max: 3 * 3600 }),
    )
    .map(([at, seconds]) => new Date(Date.parse(at) + seconds * 1000)),
);

const MINUTE = 60_000;
const WINDOW_MINUTES = 2 * 24 * 60;

describe('any cron expression, in any zone', () => {
  it('runs next strictly after `from`, on a time the expression names, and at no earlier such time', () => {
    fc.assert(
      fc.property(frequentCron, fc.constantFrom(...ZONES), instant, (expression, timeZone, from) => {
        const cron = CronExpression.parse(expression.slice(5, -1));
        const next = parseSchedule(expression, { timeZone }).next(from);
        // Every generated expression runs at least weekly: there is always a next run.
        expect(next).toBeDefined();
        if (next === undefined) return;
        expect(next.getTime()).toBeGreaterThan(from.getTime());
        expect(next.getTime() % MINUTE).toBe(0);
        const wall = wallTimeOf(next, timeZone);
        expect(cron.matches(wall)).toBe(true);
        // A wall time shown twice runs the first time only.
        expect(instantsOf(wall, timeZone)[0]?.getTime()).toBe(next.getTime());
        // No earlier minute would have run (checked by brute force over the first two days).
        const end = Math.min(
          next.getTime(),
          Math.ceil(from.getTime() / MINUTE) * MINUTE + WINDOW_MINUTES * MINUTE,
        );
        for (let t = Math.floor(from.getTime() / MINUTE) * MINUTE + MINUTE; t < end; t += MINUTE) {
          const candidate = wallTimeOf(new Date(t), timeZone);
          if (!cron.matches(candidate)) continue;
          expect(
            instantsOf(candidate, timeZone)[0]?.getTime(),
            `${expression} at ${new Date(t).toISOString()}`,
          ).not.toBe(t);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('runs a rate on the grid of its start, the next point after `from`', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.constantFrom('minutes', 'hours', 'days'),
        instant,
        instant,
        (value, unit, start, from) => {
          const period = value * { minutes: MINUTE, hours: 60 * MINUTE, days: 1440 * MINUTE }[unit];
          const next = parseSchedule(`rate(${value} ${unit})`, { start }).next(from);
          expect(next).toBeDefined();
          if (next === undefined) return;
          expect(next.getTime()).toBeGreaterThan(Math.max(from.getTime(), start.getTime()));
          expect((next.getTime() - start.getTime()) % period).toBe(0);
          expect(next.getTime() - Math.max(from.getTime(), start.getTime())).toBeLessThanOrEqual(period);
        },
      ),
    );
  });
});
