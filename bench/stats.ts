// The few statistics the benchmark reports, defined once so every part computes them the same way.

export interface Summary {
  count: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

/**
 * The nearest-rank percentile (the smallest value with at least p % of the samples at or below it), so a
 * percentile is always a value that was observed: a median of request counts is a whole number of requests.
 */
export const percentile = (values: readonly number[], p: number): number => {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile: p must be in (0, 100], got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(rank, 1)) - 1] ?? Number.NaN;
};

export const median = (values: readonly number[]): number => percentile(values, 50);

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

export const summarize = (values: readonly number[]): Summary => ({
  count: values.length,
  min: values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.min(a, b)),
  median: median(values),
  p95: percentile(values, 95),
  max: values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b)),
  mean: mean(values),
});

/** Rounds for display and JSON, so reports do not carry floating-point noise. */
export const round = (value: number, digits = 2): number => {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
