// A burst through the REST API against a low Segmind rate limit, over real HTTP on the local stack: the
// jobs share one request budget, so they queue (and say so) instead of hammering Segmind into 429s, and
// every one of them completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal, type JobStatus } from '#domain/video-job';
import { type ApiStack, jobIdOf, SMALL_JOB, startApiStack } from '#test/api-e2e/support/api-stack';
import { emulatorOf } from '#test/workflow/support/local-stack';

const JOBS = 16;
const CONCURRENCY = 8;
const RATE_LIMIT_PER_MINUTE = 6;

let env: ApiStack;

beforeAll(async () => {
  env = await startApiStack({
    timeScale: 60,
    emulatorOptions: { rateLimitPerMinute: RATE_LIMIT_PER_MINUTE, credits: 10_000 },
  });
});
afterAll(() => env?.stop());

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of the results. */
const pooled = async <T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) => {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
};

describe('a burst of API jobs against the rate limit', () => {
  it(`${JOBS} jobs at concurrency ${CONCURRENCY}, ${RATE_LIMIT_PER_MINUTE} RPM: they wait for the budget, and all complete`, async () => {
    const prompts = Array.from({ length: JOBS }, (_, i) => `burst job ${i + 1}: a kite over a beach`);
    const jobIds = await pooled(prompts, CONCURRENCY, async (prompt) => {
      const created = await env.client.create({ prompt, ...SMALL_JOB });
      expect(created.status, created.text).toBe(202);
      return jobIdOf(created);
    });

    const waitingSeen: unknown[] = [];
    const finished = await Promise.all(
      jobIds.map(async (jobId) => {
        const deadline = Date.now() + 100_000;
        for (;;) {
          const view = (await env.client.get(jobId)).body;
          if (view.waiting !== undefined) waitingSeen.push(view.waiting);
          if (isTerminal(view.status as JobStatus) || Date.now() > deadline) return view;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }),
    );

    const byStatus: Record<string, number> = {};
    for (const view of finished) byStatus[String(view.status)] = (byStatus[String(view.status)] ?? 0) + 1;
    const failures = finished.filter((view) => view.status !== 'COMPLETED').map((view) => view.error);
    expect(byStatus, JSON.stringify(failures.slice(0, 3))).toEqual({ COMPLETED: JOBS });
    const counters = emulatorOf(env.stack).control.counters();
    expect(counters.jobsCreated).toBe(JOBS);
    // Jobs queued and said so: waiting for the budget, with a place in line.
    expect(waitingSeen.length).toBeGreaterThan(0);
    expect(waitingSeen[0]).toEqual({
      for: 'waiting for rate budget',
      place: expect.any(Number),
      until: expect.any(String),
    });
    // Requests are spaced to the limit: a 429 is the exception (latency can still bunch two), not the
    // way the jobs find out about it (without the budget this burst draws ~90).
    expect(counters.byStatusCode['429'] ?? 0).toBeLessThan(JOBS);
  }, 150_000);
});
