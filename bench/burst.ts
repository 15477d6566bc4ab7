// Part 6 of the bench: a burst of API jobs against a low rate limit. N jobs are POSTed to the local REST API
// (real HTTP, the API handlers, the synthesized state machine) at a given concurrency while the emulator
// allows only a few requests per emulated minute. The jobs share one request budget, so they should queue,
// not fail: every one COMPLETED, none FAILED, and the wall time close to the bound the limit sets
// (upstream requests ÷ RPM). 429s and requests come from the emulator's counters.
import { type RateLimitBound, rateLimitBound } from '#bench/batch';
import { round } from '#bench/stats';
import type { LocalStack } from '#local/stack';

export const BURST_BOUND_TARGET_RATIO = 1.3;

/** Every burst job has this shape, so the emulator renders one MP4 for all of them. */
const BURST_SHAPE = { resolution: '1080p', duration: 6, generateAudio: true } as const;

export interface BurstBenchOptions {
  jobs: number;
  /** How many POSTs are in flight at once. */
  concurrency: number;
  rateLimitPerMinute: number;
}

export interface BurstBenchResult {
  jobs: number;
  concurrency: number;
  rateLimitPerMinute: number;
  timeScale: number;
  statusCounts: Partial<Record<string, number>>;
  completed: number;
  failed: number;
  /** Jobs that ended FAILED (or otherwise without a video) because of a 429. */
  failedByThrottling: number;
  /** Responses with HTTP 429 the emulator sent during the burst. */
  throttled: number;
  upstreamRequests: { submit: number; status: number; result: number; total: number };
  segmindJobsCreated: number;
  /** From the first POST until every job was terminal. */
  wallSeconds: number;
  bound: RateLimitBound;
  ratioToBound: number;
  /** Jobs whose view said `waiting for rate budget` at least once while the bench watched. */
  jobsSeenWaiting: number;
  targets: { allCompleted: boolean; noneFailedByThrottling: boolean; withinBound: boolean };
}

const RATE_LIMIT_ERROR = /rate.?limit|429|throttl/i;

/** Runs `work` over `items`, at most `limit` at a time. */
const pooled = async <T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) => {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  return results;
};

export const runBurstBench = async (
  stack: LocalStack,
  options: BurstBenchOptions,
): Promise<BurstBenchResult> => {
  const emulator = stack.emulator;
  if (!emulator) throw new Error('the burst bench needs the emulator (its rate limit and counters)');
  // Loaded here: the report imports this module's types without the local stack.
  const { localApiHandlers, startLocalApi } = await import('#local/api-server');
  await emulator.prepareVideos([BURST_SHAPE]);
  const api = await startLocalApi({
    handlers: await localApiHandlers({ workflow: stack.workflow, events: stack.events }),
  });
  try {
    const before = emulator.control.counters();
    const started = performance.now();
    const prompts = Array.from(
      { length: options.jobs },
      (_, i) => `Bench burst ${i + 1}: a kite over a beach`,
    );
    const jobIds = await pooled(prompts, options.concurrency, async (prompt) => {
      const response = await fetch(`${api.url}/videos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, ...BURST_SHAPE }),
      });
      const body = (await response.json()) as { jobId?: unknown };
      if (response.status !== 202 || typeof body.jobId !== 'string') {
        throw new Error(`POST /videos answered ${response.status}: ${JSON.stringify(body)}`);
      }
      return body.jobId;
    });

    // Watch the records (cheaper than GETs through the API) until every job has ended.
    const seenWaiting = new Set<string>();
    const ended = new Map<string, string>();
    while (ended.size < jobIds.length) {
      for (const jobId of jobIds) {
        if (ended.has(jobId)) continue;
        const job = await stack.jobs.get(jobId);
        if (job?.rateBudgetWait !== undefined && job.status === 'PENDING') seenWaiting.add(jobId);
        if (job && ['COMPLETED', 'FAILED', 'EXPIRED', 'TIMED_OUT', 'CANCELLED'].includes(job.status)) {
          ended.set(jobId, job.status);
        }
      }
      if (ended.size < jobIds.length) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const wallSeconds = (performance.now() - started) / 1000;
    await stack.workflow.idle();
    const after = emulator.control.counters();

    const delta = (endpoint: string): number =>
      (after.byEndpoint[endpoint as keyof typeof after.byEndpoint] ?? 0) -
      (before.byEndpoint[endpoint as keyof typeof before.byEndpoint] ?? 0);
    const upstream = { submit: delta('submit'), status: delta('status'), result: delta('result'), total: 0 };
    upstream.total = upstream.submit + upstream.status + upstream.result;
    const bound = rateLimitBound(upstream.total, options.rateLimitPerMinute, stack.timeScale);
    const ratioToBound = wallSeconds / bound.realSeconds;

    const statusCounts: Partial<Record<string, number>> = {};
    for (const status of ended.values()) statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    let failedByThrottling = 0;
    for (const [jobId, status] of ended) {
      if (status === 'COMPLETED') continue;
      const job = await stack.jobs.get(jobId);
      if (RATE_LIMIT_ERROR.test(`${job?.errorCode ?? ''} ${job?.errorMessage ?? ''}`))
        failedByThrottling += 1;
    }
    const completed = statusCounts.COMPLETED ?? 0;
    return {
      jobs: options.jobs,
      concurrency: options.concurrency,
      rateLimitPerMinute: options.rateLimitPerMinute,
      timeScale: stack.timeScale,
      statusCounts,
      completed,
      failed: statusCounts.FAILED ?? 0,
      failedByThrottling,
      throttled: (after.byStatusCode['429'] ?? 0) - (before.byStatusCode['429'] ?? 0),
      upstreamRequests: upstream,
      segmindJobsCreated: after.jobsCreated - before.jobsCreated,
      wallSeconds: round(wallSeconds, 1),
      bound: { emulatedMinutes: round(bound.emulatedMinutes, 1), realSeconds: round(bound.realSeconds, 1) },
      ratioToBound: round(ratioToBound, 2),
      jobsSeenWaiting: seenWaiting.size,
      targets: {
        allCompleted: completed === options.jobs,
        noneFailedByThrottling: failedByThrottling === 0,
        withinBound: ratioToBound <= BURST_BOUND_TARGET_RATIO,
      },
    };
  } finally {
    await api.stop();
  }
};

/** The burst's lines of the printed report. */
export const formatBurst = (burst: BurstBenchResult): string[] => [
  `${burst.jobs} jobs POSTed to the local API at concurrency ${burst.concurrency}; emulator at ` +
    `${burst.rateLimitPerMinute} RPM, time scale ${burst.timeScale}.`,
  `  statuses: ${JSON.stringify(burst.statusCounts)}; failed by 429: ${burst.failedByThrottling}; ` +
    `Segmind jobs created: ${burst.segmindJobsCreated}`,
  `  upstream requests: ${burst.upstreamRequests.total} (submit ${burst.upstreamRequests.submit}, status ` +
    `${burst.upstreamRequests.status}, result ${burst.upstreamRequests.result}); 429s seen: ${burst.throttled}`,
  `  wall ${burst.wallSeconds} s vs the bound ${burst.bound.realSeconds} s (${burst.bound.emulatedMinutes} ` +
    `emulated min = requests ÷ RPM): ${burst.ratioToBound}×; jobs seen waiting for the budget: ${burst.jobsSeenWaiting}`,
];
