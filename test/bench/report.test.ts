import { describe, expect, it } from 'vitest';
import type { BatchBenchResult } from '#bench/batch';
import type { BurstBenchResult } from '#bench/burst';
import type { ColdStartResult } from '#bench/cold-start';
import { simulatePollingMatrix } from '#bench/polling';
import {
  batchTargets,
  burstTargets,
  coldStartTargets,
  defaultPolicyStats,
  evaluateTargets,
  formatTable,
  pollingTargets,
} from '#bench/report';

describe('pollingTargets', () => {
  const simulation = simulatePollingMatrix({ jobsPerConfiguration: 200, seed: 1 });
  const policy = defaultPolicyStats(simulation);

  it("judges the issue's four polling targets on the default 2k/8 s job", () => {
    const targets = pollingTargets(simulation, undefined);
    expect(targets.map((t) => t.target)).toEqual(['≤ 7', '≤ 20', '≤ 1.5 s', '≤ 3 s']);
    expect(targets[0]?.status).toBe((policy?.requests.median ?? Number.NaN) <= 7 ? 'met' : 'NOT met');
    expect(targets[0]?.value).toBe(String(policy?.requests.median));
  });

  it('reports a confirmation on the local stack that could not run as NOT met, with the reason', () => {
    const targets = pollingTargets(simulation, undefined, 'the emulator did not start\nstack trace');
    expect(targets.at(-1)).toMatchObject({
      status: 'NOT met',
      value: 'did not run: the emulator did not start',
    });
  });

  it('says NOT met when a figure misses, from the figures themselves', () => {
    const worse = structuredClone(simulation);
    const stats = defaultPolicyStats(worse);
    if (!stats) throw new Error('no default row');
    stats.requests.median = 8;
    stats.detectionDelaySeconds.p95 = 3.01;
    const statuses = pollingTargets(worse, undefined).map((t) => t.status);
    expect(statuses).toEqual(['NOT met', 'met', 'met', 'NOT met']);
  });
});

describe('coldStartTargets', () => {
  const bundle = (entry: string, bundleBytes: number, importMedianMs: number) => ({
    function: entry,
    entry,
    memoryMb: 256,
    bundleBytes,
    sourceMapBytes: 0,
    importMs: [importMedianMs],
    importMedianMs,
    bundleMet: bundleBytes <= 1_000_000,
    importMet: importMedianMs <= 150,
  });
  const result: ColdStartResult = {
    nodeVersion: 'v20',
    runs: 7,
    bundles: [bundle('a.ts', 900_000, 100), bundle('b.ts', 1_100_000, 160)],
    heaviestPackages: [],
    bundlingSeconds: 1,
  };

  it('is met only when every bundle is, and names the worst one', () => {
    const [size, time] = coldStartTargets(result);
    expect(size).toMatchObject({ status: 'NOT met' });
    expect(size?.value).toContain('1/2 within; largest 1.10 MB (b.ts)');
    expect(time?.value).toContain('slowest 160 ms (b.ts)');
  });
});

describe('batchTargets', () => {
  it('reports the ratio to the bound, lost jobs and 429 failures', () => {
    const batch = {
      lines: 1000,
      rateLimitPerMinute: 50,
      ratioToBound: 1.1,
      wallSeconds: 110,
      bound: { emulatedMinutes: 100, realSeconds: 100 },
      jobsLost: 0,
      failuresFromThrottling: 0,
      throttled: 12,
      targets: { withinBound: true, noneLost: true, noThrottlingFailures: true },
    } as BatchBenchResult;
    expect(batchTargets(batch).map((t) => [t.value, t.status])).toEqual([
      ['1.10× (110.0 s vs 100.0 s)', 'met'],
      ['0', 'met'],
      ['0 (12 429s seen)', 'met'],
    ]);
  });
});

describe('evaluateTargets', () => {
  it('leaves the targets of parts that did not run pending, with the reason', () => {
    const targets = evaluateTargets({ batch: { seconds: 0, pending: 'runLocalBatch does not exist yet' } });
    expect(targets.every((t) => t.status === 'pending')).toBe(true);
    expect(targets.find((t) => t.part === 'batch')?.value).toBe('runLocalBatch does not exist yet');
    expect(targets.find((t) => t.part === 'copy')?.value).toBe('not run');
  });
});

describe('formatTable', () => {
  it('pads columns, right-aligns the ones asked for, and rules off the header', () => {
    expect(
      formatTable(
        [
          ['name', 'n'],
          ['a', '10'],
          ['long', '2'],
        ],
        new Set([1]),
      ),
    ).toBe(['name   n', '----  --', 'a     10', 'long   2'].join('\n'));
  });
});

describe('burstTargets', () => {
  const burst = (over: Partial<BurstBenchResult>): BurstBenchResult => ({
    jobs: 100,
    concurrency: 50,
    rateLimitPerMinute: 10,
    timeScale: 60,
    statusCounts: { COMPLETED: 100 },
    completed: 100,
    failed: 0,
    failedByThrottling: 0,
    throttled: 37,
    upstreamRequests: { submit: 105, status: 140, result: 118, total: 363 },
    segmindJobsCreated: 100,
    wallSeconds: 47.1,
    bound: { emulatedMinutes: 36.3, realSeconds: 36.3 },
    ratioToBound: 1.3,
    jobsSeenWaiting: 53,
    targets: { allCompleted: true, noneFailedByThrottling: true, withinBound: true },
    ...over,
  });

  it('meets the burst targets only with every job COMPLETED and the wall within 1.3x the bound', () => {
    expect(burstTargets(burst({})).map((t) => t.status)).toEqual(['met', 'met']);
    const failing = burst({
      completed: 28,
      failed: 72,
      failedByThrottling: 72,
      ratioToBound: 2.1,
      targets: { allCompleted: false, noneFailedByThrottling: false, withinBound: false },
    });
    expect(burstTargets(failing).map((t) => [t.value.split(' (')[0], t.status])).toEqual([
      ['28/100', 'NOT met'],
      ['2.10×', 'NOT met'],
    ]);
  });
});
