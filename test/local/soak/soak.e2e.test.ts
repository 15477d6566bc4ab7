// The permanent soak, CI-sized: 200 jobs (API, uploads, a batch) through the whole local stack against
// 20 % seeded upstream faults with the emulator's rate limit on, time-scaled to fit in two minutes. Every
// invariant must hold; the table is the failure message.
import { rm } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { runSoak, type SoakReport } from '#local/soak/run';

const CI_SOAK = {
  jobs: 200,
  faultRate: 0.2,
  seed: 20_261_206,
  timeScale: 40,
  rateLimitPerMinute: 50,
  jobsPerMinute: 8,
  logLevel: 'INFO',
};

let report: SoakReport | undefined;
afterAll(async () => {
  if (report) await rm(report.dataDir, { recursive: true, force: true });
});

it('keeps every promise through 200 jobs and 20 % upstream faults', { timeout: 150_000 }, async () => {
  report = await runSoak(CI_SOAK, { command: `CI soak ${JSON.stringify(CI_SOAK)}` });
  expect(report.verdict.passed, report.table).toBe(true);
  expect(report.verdict.figures.jobs).toBe(200);
  expect(report.problems).toEqual([]);
});
