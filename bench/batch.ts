// Part 5 of the bench: a whole batch against Segmind's rate limit. A manifest of default requests runs
// through the synthesized batch state machine on the local stack (#local/batch-runner) while the emulator
// enforces 50 requests per emulated minute. Every request counts against the limit, so the batch cannot
// finish before (upstream requests ÷ limit) minutes: the wall time is compared with that bound, and the
// 429s, lost jobs and 429-caused failures are counted from the emulator and the job records.
import { median, percentile, round } from '#bench/stats';
import { isTerminal, JOB_STATUSES, type JobStatus } from '#domain/video-job';
import type { LocalStack } from '#local/stack';

export const BATCH_BOUND_TARGET_RATIO = 1.2;

export interface RateLimitBound {
  /** The least emulated time the limit allows for this many requests. */
  emulatedMinutes: number;
  /** The same in real seconds at the time scale. */
  realSeconds: number;
}

/** The shortest time `requests` can be served in under `rateLimitPerMinute` (emulated minutes). */
export const rateLimitBound = (
  requests: number,
  rateLimitPerMinute: number,
  timeScale: number,
): RateLimitBound => {
  if (!(rateLimitPerMinute > 0 && timeScale > 0)) {
    throw new RangeError('rateLimitBound: the rate limit and the time scale must be positive');
  }
  const emulatedMinutes = requests / rateLimitPerMinute;
  return { emulatedMinutes, realSeconds: (emulatedMinutes * 60) / timeScale };
};

/** The manifest: `count` default requests (2k, 8 s, audio, no image), the shape the batch is sized for. */
export const batchManifestLines = (count: number): string[] =>
  Array.from({ length: count }, (_, index) =>
    JSON.stringify({ prompt: `Bench batch line ${index + 1}: a paper boat drifting down a rainy street` }),
  );

const RATE_LIMIT_ERROR = /rate.?limit|429|throttl/i;

export interface BatchBenchOptions {
  lines: number;
  rateLimitPerMinute: number;
  /** Overrides the synthesized MaxConcurrency (to explore); by default the batch runs as deployed. */
  concurrency?: number;
}

export interface BatchBenchResult {
  lines: number;
  timeScale: number;
  rateLimitPerMinute: number;
  maxConcurrency: number;
  /** True when MaxConcurrency was overridden for this run instead of taken from the template. */
  concurrencyOverridden: boolean;
  maxRunningChildren: number;
  batchStatus: string;
  summaryStatus?: string;
  wallSeconds: number;
  /** The wall time in emulated minutes (wall × time scale). */
  emulatedMinutes: number;
  upstreamRequests: { submit: number; status: number; result: number; total: number };
  requestsPerVideo: number;
  bound: RateLimitBound;
  /** Wall time ÷ the bound. */
  ratioToBound: number;
  /** Responses with HTTP 429 the emulator sent during the batch. */
  throttled: number;
  /** Jobs Segmind (the emulator) created: one per line, or a 429'd submit was paid for twice. */
  segmindJobsCreated: number;
  /** Upstream requests per emulated minute, on average over the batch. */
  averageRequestsPerMinute: number;
  /** Each job's record from creation to its terminal status, in emulated seconds. */
  jobSeconds: { median: number; p95: number };
  /**
   * The request rate MaxConcurrency allows at most (Little's law): concurrency × requests per video ÷ job
   * minutes. When it is below the limit, the concurrency, not the limit, sets the wall time.
   */
  concurrencyBoundRequestsPerMinute: number;
  /** The concurrency at which the jobs as measured would use the whole limit: limit ÷ (requests ÷ job minutes). */
  saturatingConcurrency: number;
  /** Runnable lines whose job has no terminal record at the end. */
  jobsLost: number;
  /** Jobs that ended FAILED (or otherwise without a video) because of a 429. */
  failuresFromThrottling: number;
  statusCounts: Partial<Record<string, number>>;
  targets: { withinBound: boolean; noneLost: boolean; noThrottlingFailures: boolean };
}

/** Emulated seconds from each job's record creation to its last update (its terminal status). */
const jobDurations = async (stack: LocalStack, jobIds: readonly string[]): Promise<number[]> => {
  const seconds: number[] = [];
  // A few reads at a time: dynalite is in this process, and so is the interpreter.
  for (let i = 0; i < jobIds.length; i += 25) {
    const records = await Promise.all(jobIds.slice(i, i + 25).map((id) => stack.jobs.get(id)));
    for (const job of records) {
      if (!job) continue;
      const ms = Date.parse(job.updatedAt) - Date.parse(job.createdAt);
      if (Number.isFinite(ms)) seconds.push((ms / 1000) * stack.timeScale);
    }
  }
  return seconds;
};

const endpointCount = (counts: Record<string, number>, endpoint: string): number => counts[endpoint] ?? 0;

export const runBatchBench = async (
  stack: LocalStack,
  options: BatchBenchOptions,
): Promise<BatchBenchResult> => {
  const emulator = stack.emulator;
  if (!emulator) throw new Error('the batch bench needs the emulator (its rate limit and counters)');
  // Loaded here, not at the top: the report imports this module's arithmetic without the local stack.
  const { requestShapes, runLocalBatch } = await import('#local/batch-runner');
  emulator.control.configure({ rateLimitPerMinute: options.rateLimitPerMinute });
  const lines = batchManifestLines(options.lines);
  await emulator.prepareVideos(requestShapes(lines));

  const before = emulator.control.counters();
  const started = performance.now();
  const run = await runLocalBatch(stack, {
    lines,
    batchId: `bench-${Date.now().toString(36)}`,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const after = emulator.control.counters();

  const delta = (endpoint: string): number =>
    endpointCount(after.byEndpoint, endpoint) - endpointCount(before.byEndpoint, endpoint);
  const upstream = { submit: delta('submit'), status: delta('status'), result: delta('result'), total: 0 };
  upstream.total = upstream.submit + upstream.status + upstream.result;
  const throttled = (after.byStatusCode['429'] ?? 0) - (before.byStatusCode['429'] ?? 0);
  const bound = rateLimitBound(upstream.total, options.rateLimitPerMinute, stack.timeScale);

  // The job records are the truth: every runnable line must end with exactly one terminal status.
  const jobs = run.summary?.jobs ?? [];
  const statusCounts: Partial<Record<string, number>> = {};
  let terminal = 0;
  let failuresFromThrottling = 0;
  for (const line of jobs) {
    statusCounts[line.status] = (statusCounts[line.status] ?? 0) + 1;
    const known = (JOB_STATUSES as readonly string[]).includes(line.status);
    if (known && isTerminal(line.status as JobStatus)) terminal += 1;
  }
  for (const failure of run.summary?.failures ?? []) {
    if (RATE_LIMIT_ERROR.test(`${failure.errorCode ?? ''} ${failure.reason ?? ''}`))
      failuresFromThrottling += 1;
  }
  const jobsLost = options.lines - terminal;
  const jobSeconds = await jobDurations(
    stack,
    jobs.map((line) => line.jobId),
  );
  const typicalJobMinutes = median(jobSeconds) / 60;
  const emulatedMinutes = (wallSeconds * stack.timeScale) / 60;
  const ratioToBound = wallSeconds / bound.realSeconds;
  return {
    lines: options.lines,
    timeScale: stack.timeScale,
    rateLimitPerMinute: options.rateLimitPerMinute,
    maxConcurrency: run.stats.maxConcurrency,
    concurrencyOverridden: options.concurrency !== undefined,
    maxRunningChildren: run.stats.maxRunningChildren,
    batchStatus: run.status,
    ...(run.summary === undefined ? {} : { summaryStatus: run.summary.status }),
    wallSeconds: round(wallSeconds, 1),
    emulatedMinutes: round(emulatedMinutes, 1),
    upstreamRequests: upstream,
    requestsPerVideo: round(upstream.total / Math.max(1, options.lines), 2),
    bound: { emulatedMinutes: round(bound.emulatedMinutes, 1), realSeconds: round(bound.realSeconds, 1) },
    ratioToBound: round(ratioToBound, 2),
    throttled,
    segmindJobsCreated: after.jobsCreated - before.jobsCreated,
    averageRequestsPerMinute: round(upstream.total / Math.max(emulatedMinutes, 1e-9), 1),
    jobSeconds: { median: round(median(jobSeconds), 1), p95: round(percentile(jobSeconds, 95), 1) },
    saturatingConcurrency: round(
      options.rateLimitPerMinute / (upstream.total / Math.max(1, options.lines) / typicalJobMinutes),
      1,
    ),
    concurrencyBoundRequestsPerMinute: round(
      (run.stats.maxConcurrency * (upstream.total / Math.max(1, options.lines))) / typicalJobMinutes,
      1,
    ),
    jobsLost,
    failuresFromThrottling,
    statusCounts,
    targets: {
      withinBound: ratioToBound <= BATCH_BOUND_TARGET_RATIO,
      noneLost: jobsLost === 0,
      noThrottlingFailures: failuresFromThrottling === 0,
    },
  };
};
