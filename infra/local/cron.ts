// EventBridge Scheduler's schedule expressions, evaluated on this machine: `cron(min hour dom month dow year)`
// read in an IANA time zone with Scheduler's daylight-saving rules, `rate(n unit)` and `at(…)`. The local
// scheduler (#local/scheduler) uses it to run the schedule of the synthesized app at the times AWS would.
//
// Supported in cron fields: numbers, names (JAN-DEC, SUN-SAT; day-of-week 1 = SUN), `*`, `?` (day-of-month or
// day-of-week, exactly one of them), lists `a,b`, ranges `a-b`, steps `*/n`, `a/n`, `a-b/n`. Not supported,
// and refused with a ScheduleExpressionError that says so: `L` (last), `W` (nearest weekday), `#` (nth
// weekday of the month) and ranges that wrap around (`FRI-MON`: write `FRI-SAT,SUN-MON`).
//
// Daylight saving time, as Scheduler documents it: a wall-clock time that does not exist (the hour skipped
// in spring) does not run; one that happens twice (the hour repeated in autumn) runs once, the first time.

/** The expression cannot be read, or uses a part of Scheduler's syntax this evaluator does not support. */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

/** A time on the clock of some zone, to the minute. Months 1-12. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

export interface ScheduleEvaluator {
  readonly kind: 'cron' | 'rate' | 'at';
  /** As given, e.g. `cron(0 9 * * ? *)`. */
  readonly expression: string;
  readonly timeZone: string;
  /** The first run strictly after `after`, or undefined when the schedule never runs again. */
  next(after: Date): Date | undefined;
}

export interface ScheduleOptions {
  /** The IANA zone cron and at expressions are read in (rate ignores it). @default 'UTC' */
  timeZone?: string;
  /**
   * When a rate schedule was created: it runs every interval from then on, the first time one interval
   * later. @default now
   */
  start?: Date;
}

// ---- time zones ----

const formatters = new Map<string, Intl.DateTimeFormat>();

const formatterOf = (timeZone: string): Intl.DateTimeFormat => {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
};

/** The zone, checked: an IANA name Intl knows (`Europe/Paris`, `UTC`). */
export const checkTimeZone = (timeZone: string): string => {
  try {
    formatterOf(timeZone);
  } catch {
    throw new ScheduleExpressionError(`${timeZone} is not an IANA time zone (e.g. Europe/Paris, UTC)`);
  }
  return timeZone;
};

/** The wall-clock time and seconds of an instant in a zone. */
const partsOf = (epochMs: number, timeZone: string): WallTime & { second: number } => {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? Number.NaN,
    month: parts.month ?? Number.NaN,
    day: parts.day ?? Number.NaN,
    hour: parts.hour ?? Number.NaN,
    minute: parts.minute ?? Number.NaN,
    second: parts.second ?? Number.NaN,
  };
};

/** The wall-clock time of an instant in a zone, to the minute (seconds dropped). */
export const wallTimeOf = (instant: Date, timeZone: string): WallTime => {
  const { second: _, ...wall } = partsOf(instant.getTime(), timeZone);
  return wall;
};

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const wallEpoch = (wall: WallTime): number =>
  Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);

/** How far the zone's clock is ahead of UTC at an instant, in ms. */
const offsetAt = (epochMs: number, timeZone: string): number => {
  const { second, ...wall } = partsOf(epochMs, timeZone);
  return wallEpoch(wall) + second * 1000 - Math.floor(epochMs / 1000) * 1000;
};

const sameWall = (a: WallTime, b: WallTime): boolean =>
  a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;

/**
 * The instants a wall-clock time happens at in a zone, earliest first: none when the clock skips it
 * (spring forward), two when it shows it twice (autumn), else one.
 */
export const instantsOf = (wall: WallTime, timeZone: string): Date[] => {
  const local = wallEpoch(wall);
  // The offsets in force a day either side cover any transition near this time.
  const offsets = new Set([local - DAY_MS, local, local + DAY_MS].map((at) => offsetAt(at, timeZone)));
  const instants = [...offsets]
    .map((offset) => local - offset)
    .filter((epoch) => sameWall(wallTimeOf(new Date(epoch), timeZone), wall));
  return [...new Set(instants)].sort((a, b) => a - b).map((epoch) => new Date(epoch));
};

/** `2026-01-05 09:00`, for messages. */
export const formatWallTime = (wall: WallTime): string => {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${wall.year}-${two(wall.month)}-${two(wall.day)} ${two(wall.hour)}:${two(wall.minute)}`;
};

// ---- cron ----

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min+1, …: months JAN-DEC, days of the week SUN-SAT. */
  readonly names?: readonly string[];
}

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59 };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK: FieldSpec = {
  name: 'day-of-week',
  min: 1,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

/** Scheduler's `L`, `W` and `LW` day tokens (`L`, `5L`, `L-2`, `15W`, `LW`). */
const LAST_OR_WEEKDAY = /^(\d*L(-\d+)?|\d+W|LW)$/i;

const unsupported = (field: FieldSpec, token: string): ScheduleExpressionError =>
  new ScheduleExpressionError(
    `${field.name}: "${token}" uses L, W or # (last day, nearest weekday, nth weekday), which the local ` +
      'scheduler does not support; use lists and ranges, or try the schedule on AWS',
  );

const fieldValue = (field: FieldSpec, token: string): number => {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < field.min || value > field.max) {
      throw new ScheduleExpressionError(`${field.name}: ${token} is out of range ${field.min}-${field.max}`);
    }
    return value;
  }
  const named = field.names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return field.min + named;
  if (LAST_OR_WEEKDAY.test(token)) throw unsupported(field, token);
  throw new ScheduleExpressionError(`${field.name}: "${token}" is not a value of this field`);
};

/** One field's allowed values, ascending; undefined for `?`. */
const parseField = (field: FieldSpec, text: string, questionMarkAllowed: boolean): number[] | undefined => {
  if (text === '?') {
    if (!questionMarkAllowed) {
      throw new ScheduleExpressionError(`${field.name}: ? is only for day-of-month or day-of-week`);
    }
    return undefined;
  }
  if (text.includes('#')) throw unsupported(field, text);
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw new ScheduleExpressionError(`${field.name}: empty item in "${text}"`);
    const [base = '', step, ...rest] = item.split('/');
    if (rest.length > 0) throw new ScheduleExpressionError(`${field.name}: "${item}" has two steps`);
    let from: number;
    let to: number;
    if (base === '*') {
      from = field.min;
      to = field.max;
    } else if (base.includes('-') && !LAST_OR_WEEKDAY.test(base)) {
      const [low = '', high = '', ...more] = base.split('-');
      if (more.length > 0) throw new ScheduleExpressionError(`${field.name}: "${base}" is not a range`);
      from = fieldValue(field, low);
      to = fieldValue(field, high);
      if (from > to) {
        throw new ScheduleExpressionError(
          `${field.name}: the range ${base} goes backwards; the local scheduler does not wrap ranges ` +
            'around, write it as a list of two ranges',
        );
      }
    } else {
      from = fieldValue(field, base);
      // `a/n` runs from a to the end of the field; a bare value is itself.
      to = step === undefined ? from : field.max;
    }
    let increment = 1;
    if (step !== undefined) {
      if (!/^\d+$/.test(step) || Number(step) < 1) {
        throw new ScheduleExpressionError(`${field.name}: the step in "${item}" must be a positive integer`);
      }
      increment = Number(step);
    }
    for (let value = from; value <= to; value += increment) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
};

/** The smallest allowed value ≥ value, if any. */
const atLeast = (allowed: readonly number[], value: number): number | undefined =>
  allowed.find((candidate) => candidate >= value);

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Day of the week as cron counts it: 1 = Sunday … 7 = Saturday. */
const dayOfWeek = (year: number, month: number, day: number): number =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

/** The six fields of a Scheduler cron expression, parsed. Evaluates wall-clock times; zones are above it. */
export class CronExpression {
  readonly fields: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Undefined when the field is `?` (the day is chosen by day-of-week). */
  readonly daysOfMonth?: readonly number[];
  readonly months: readonly number[];
  /** Undefined when the field is `?` (the day is chosen by day-of-month). */
  readonly daysOfWeek?: readonly number[];
  readonly years: readonly number[];

  /** `0 9 * * ? *` — the part inside `cron(…)`. */
  static parse(fields: string): CronExpression {
    try {
      return new CronExpression(fields);
    } catch (error) {
      // Field errors name the field; say which expression it belongs to.
      if (error instanceof ScheduleExpressionError && !error.message.startsWith('cron(')) {
        throw new ScheduleExpressionError(`cron(${fields.trim()}) ${error.message}`);
      }
      throw error;
    }
  }

  private constructor(text: string) {
    const fields = text.trim().split(/\s+/);
    if (fields.length !== 6) {
      throw new ScheduleExpressionError(
        `cron(${text.trim()}) needs six fields (minutes hours day-of-month month day-of-week year), ` +
          `got ${fields.length}`,
      );
    }
    const [minutes = '', hours = '', dom = '', month = '', dow = '', year = ''] = fields;
    this.fields = fields.join(' ');
    this.minutes = parseField(MINUTES, minutes, false) ?? [];
    this.hours = parseField(HOURS, hours, false) ?? [];
    const daysOfMonth = parseField(DAY_OF_MONTH, dom, true);
    this.months = parseField(MONTH, month, false) ?? [];
    const daysOfWeek = parseField(DAY_OF_WEEK, dow, true);
    this.years = parseField(YEAR, year, false) ?? [];
    // Scheduler's rule: a value or * in one of the two day fields, and ? in the other.
    if ((daysOfMonth === undefined) === (daysOfWeek === undefined)) {
      throw new ScheduleExpressionError(
        `cron(${this.fields}): one of day-of-month and day-of-week must be ?, and only one ` +
          '(e.g. cron(0 9 * * ? *) or cron(0 9 ? * MON-FRI *))',
      );
    }
    if (daysOfMonth !== undefined) this.daysOfMonth = daysOfMonth;
    if (daysOfWeek !== undefined) this.daysOfWeek = daysOfWeek;
  }

  private dayMatches(year: number, month: number, day: number): boolean {
    if (day > daysInMonth(year, month)) return false;
    return this.daysOfMonth !== undefined
      ? this.daysOfMonth.includes(day)
      : (this.daysOfWeek ?? []).includes(dayOfWeek(year, month, day));
  }

  /** Whether the wall-clock time is one the expression names. */
  matches(wall: WallTime): boolean {
    return (
      this.years.includes(wall.year) &&
      this.months.includes(wall.month) &&
      this.dayMatches(wall.year, wall.month, wall.day) &&
      this.hours.includes(wall.hour) &&
      this.minutes.includes(wall.minute)
    );
  }

  /**
   * The first wall-clock time at or after `from` that matches, or undefined after the last year. `from` may
   * be past the end of its unit (minute 60, day 32): it rolls over.
   */
  nextMatch(from: WallTime): WallTime | undefined {
    let { year, month, day, hour, minute } = from;
    // Each turn either returns or moves a field forward (resetting the smaller ones); years are bounded.
    for (;;) {
      const y = atLeast(this.years, year);
      if (y === undefined) return undefined;
      if (y !== year) [year, month, day, hour, minute] = [y, 1, 1, 0, 0];
      const m = atLeast(this.months, month);
      if (m === undefined) {
        [year, month, day, hour, minute] = [year + 1, 1, 1, 0, 0];
        continue;
      }
      if (m !== month) [month, day, hour, minute] = [m, 1, 0, 0];
      let d = day;
      while (d <= 31 && !this.dayMatches(year, month, d)) d += 1;
      if (d > 31) {
        [month, day, hour, minute] = [month + 1, 1, 0, 0];
        continue;
      }
      if (d !== day) [day, hour, minute] = [d, 0, 0];
      const h = atLeast(this.hours, hour);
      if (h === undefined) {
        [day, hour, minute] = [day + 1, 0, 0];
        continue;
      }
      if (h !== hour) [hour, minute] = [h, 0];
      const mi = atLeast(this.minutes, minute);
      if (mi === undefined) {
        [hour, minute] = [hour + 1, 0];
        continue;
      }
      return { year, month, day, hour, minute: mi };
    }
  }
}

// ---- schedules ----

const cronSchedule = (expression: string, cron: CronExpression, timeZone: string): ScheduleEvaluator => ({
  kind: 'cron',
  expression,
  timeZone,
  next(after) {
    // The first instant of each matching wall time rises with the wall time, so the first match whose
    // first instant is after `after` is the answer; matches before the wall time of `after` cannot be.
    let from: WallTime = wallTimeOf(after, timeZone);
    for (;;) {
      const match = cron.nextMatch(from);
      if (match === undefined) return undefined;
      const [first] = instantsOf(match, timeZone);
      if (first !== undefined && first.getTime() > after.getTime()) return first;
      from = { ...match, minute: match.minute + 1 };
    }
  },
});

const RATE_UNITS: Record<string, number> = {
  minute: MINUTE_MS,
  minutes: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  hours: 60 * MINUTE_MS,
  // Scheduler counts a day as 24 hours, whatever the clocks do.
  day: DAY_MS,
  days: DAY_MS,
};

const rateSchedule = (expression: string, body: string, timeZone: string, start: Date): ScheduleEvaluator => {
  const match = /^(\d+)\s+([a-z]+)$/i.exec(body.trim());
  const unit = match?.[2] === undefined ? undefined : RATE_UNITS[match[2].toLowerCase()];
  const value = Number(match?.[1]);
  if (unit === undefined || !Number.isSafeInteger(value) || value < 1) {
    throw new ScheduleExpressionError(
      `${expression}: expected rate(<positive integer> minute(s)|hour(s)|day(s)), e.g. rate(5 minutes)`,
    );
  }
  const period = value * unit;
  return {
    kind: 'rate',
    expression,
    timeZone,
    next(after) {
      const elapsed = after.getTime() - start.getTime();
      const runs = elapsed < 0 ? 1 : Math.floor(elapsed / period) + 1;
      return new Date(start.getTime() + runs * period);
    },
  };
};

const atSchedule = (expression: string, body: string, timeZone: string): ScheduleEvaluator => {
  const fields = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim())?.slice(1).map(Number);
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = fields ?? [];
  const wall: WallTime = { year, month, day, hour, minute };
  const valid =
    fields !== undefined &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (!valid) throw new ScheduleExpressionError(`${expression}: expected at(yyyy-mm-ddThh:mm:ss)`);
  // A time the clocks skip never comes: the schedule does not run.
  const [first] = instantsOf(wall, timeZone);
  const at = first === undefined ? undefined : new Date(first.getTime() + second * 1000);
  return {
    kind: 'at',
    expression,
    timeZone,
    next: (after) => (at !== undefined && at.getTime() > after.getTime() ? at : undefined),
  };
};

/**
 * A Scheduler expression — `cron(…)`, `rate(…)` or `at(…)` — ready to say when it runs next.
 * @throws ScheduleExpressionError when it cannot be read or uses what is not supported (see the header)
 */
export const parseSchedule = (expression: string, options: ScheduleOptions = {}): ScheduleEvaluator => {
  const text = expression.trim();
  const timeZone = checkTimeZone(options.timeZone ?? 'UTC');
  const match = /^(cron|rate|at)\((.*)\)$/s.exec(text);
  const body = match?.[2] ?? '';
  switch (match?.[1]) {
    case 'cron':
      return cronSchedule(text, CronExpression.parse(body), timeZone);
    case 'rate':
      return rateSchedule(text, body, timeZone, options.start ?? new Date());
    case 'at':
      return atSchedule(text, body, timeZone);
    default:
      throw new ScheduleExpressionError(
        `"${expression}" is not a schedule expression: expected cron(…), rate(…) or at(…)`,
      );
  }
};
