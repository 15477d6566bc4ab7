// `npm run bench [-- --quick]`: the numbers that say how good the pipeline is, measured side by side in one
// run — polling (requests per video, detection delay, videos per hour) against the obvious alternatives, the
// copy of a big video, the workflow's own overhead and AWS cost, Lambda cold starts, and a batch under
// Segmind's rate limit. Prints the tables and every target as met / NOT met; writes .bench/latest.json.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BatchBenchResult } from '#bench/batch';
import { type ColdStartResult, runColdStartBench } from '#bench/cold-start';
import { type LocalTaskResult, runLocalTask } from '#bench/local-task';
import {
  DEFAULT_CONFIGURATION_ID,
  type LocalConfirmation,
  POLICY_ID,
  RATE_LIMIT_PER_MINUTE,
  simulatePollingMatrix,
} from '#bench/polling';
import { AWS_PRICES, SEGMIND_PRICE_RANGE_USD } from '#bench/pricing';
import {
  type BenchReport,
  evaluateTargets,
  formatReport,
  machineInfo,
  type PartOutcome,
  writeReport,
} from '#bench/report';
import { type WorkflowOverheadResult, workflowOverheadReport } from '#bench/workflow-overhead';
import { PROJECT_ROOT } from '#infra/constructs/handlers';

const PARTS = ['polling', 'copy', 'workflow', 'cold-start', 'batch', 'burst'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `Usage: npm run bench -- [options]

  --quick              a smaller version of every part (under 5 minutes)
  --only <parts>       comma-separated: ${PARTS.join(', ')} (default: all)
  --jobs <n>           simulated jobs per polling configuration (default 500; quick 100)
  --seed <n>           seeds the simulation and the emulator (default 1)
  --batch-lines <n>    lines of the rate-limited batch (default 1000; quick 100)
  --batch-concurrency <n>  override the batch's MaxConcurrency (default: as synthesized)
  --burst-jobs <n>     API jobs of the burst (default 100; quick 30), POSTed 50 at a time at 10 RPM
  --out <file>         where the JSON goes (default .bench/latest.json)
  -h, --help
The copy size comes from BENCH_COPY_SIZE (e.g. 2GiB; default 1 GiB, quick 256 MiB).`;

interface Settings {
  quick: boolean;
  parts: ReadonlySet<Part>;
  jobs: number;
  seed: number;
  batchLines: number;
  batchConcurrency?: number;
  burstJobs: number;
  out: string;
}

const positiveInteger = (name: string, raw: string | undefined, fallback: number): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive integer`);
  return value;
};

const parseSettings = (argv: string[]): Settings | 'help' => {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      jobs: { type: 'string' },
      seed: { type: 'string' },
      'batch-lines': { type: 'string' },
      'batch-concurrency': { type: 'string' },
      'burst-jobs': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const only = values.only?.split(',').map((p) => p.trim()) ?? [...PARTS];
  const unknown = only.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new RangeError(`unknown part(s): ${unknown.join(', ')}`);
  const seedRaw = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seedRaw)) throw new RangeError('--seed must be an integer');
  return {
    quick,
    parts: new Set(only as Part[]),
    jobs: positiveInteger('--jobs', values.jobs, quick ? 100 : 500),
    seed: seedRaw,
    batchLines: positiveInteger('--batch-lines', values['batch-lines'], quick ? 100 : 1000),
    burstJobs: positiveInteger('--burst-jobs', values['burst-jobs'], quick ? 30 : 100),
    ...(values['batch-concurrency'] === undefined
      ? {}
      : { batchConcurrency: positiveInteger('--batch-concurrency', values['batch-concurrency'], 1) }),
    out: resolve(
      process.env.INIT_CWD ?? process.cwd(),
      values.out ?? join(PROJECT_ROOT, '.bench', 'latest.json'),
    ),
  };
};

/**
 * Local-stack time scales. The real per-poll overhead (Lambda + HTTP, a few ms) is multiplied by the scale
 * in emulated seconds, so the scale trades run time for fidelity: the confirmation measures that overhead
 * and gives it to the simulation; the batch keeps it small against the minute-long rate-limit window.
 */
const CONFIRM_TIME_SCALE = { quick: 50, full: 20 } as const;
const BATCH_TIME_SCALE = { quick: 100, full: 60 } as const;
/** The burst: issue 9's figure, 100 API jobs at concurrency 50 against 10 requests per minute. */
const BURST = { concurrency: 50, rateLimitPerMinute: 10, timeScale: 60 } as const;

const CONFIRM_SHAPES = [
  { resolution: '2k', duration: 8, generateAudio: true },
  { resolution: '1080p', duration: 6, generateAudio: false },
  { resolution: '2k', duration: 8, generateAudio: true },
  { resolution: '4k', duration: 10, generateAudio: true },
  { resolution: '2k', duration: 6, generateAudio: false },
  { resolution: '1080p', duration: 10, generateAudio: true },
] as const;

const timed = async <T>(work: () => Promise<T>): Promise<PartOutcome<T>> => {
  const started = performance.now();
  try {
    const result = await work();
    return { seconds: (performance.now() - started) / 1000, result };
  } catch (error) {
    return {
      seconds: (performance.now() - started) / 1000,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
};

const progress = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

const main = async (): Promise<void> => {
  const settings = parseSettings(process.argv.slice(2));
  if (settings === 'help') {
    console.log(USAGE);
    return;
  }
  const { quick, parts, seed } = settings;
  // The SDK's notice about its future Node 22 floor, from every child process, would only bury the tables.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const startedAt = new Date();
  const report: BenchReport = {
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    quick,
    seed,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    machine: machineInfo(),
    parts: {},
    targets: [],
  };

  // 1. The simulation always runs (well under a second): part 3 takes its typical poll counts from it.
  progress(`polling: simulating ${settings.jobs} jobs per configuration`);
  const simulationStarted = performance.now();
  const simulation = simulatePollingMatrix({ jobsPerConfiguration: settings.jobs, seed });
  const simulationSeconds = (performance.now() - simulationStarted) / 1000;
  const defaultRow = simulation.configurations.find((c) => c.configuration === DEFAULT_CONFIGURATION_ID);
  const typicalPolls = defaultRow?.strategies.find((s) => s.strategy === POLICY_ID)?.polls.median ?? 5;
  const twoSecondLoopPolls = defaultRow?.twoSecondLoopPolls.median ?? 24;

  let confirmation: PartOutcome<LocalConfirmation> | undefined;
  let overhead: PartOutcome<WorkflowOverheadResult> | undefined;
  if (parts.has('polling') || parts.has('workflow')) {
    const shapes = quick ? CONFIRM_SHAPES.slice(0, 3) : CONFIRM_SHAPES.flatMap((s) => [s, s]);
    progress(`polling + workflow: ${shapes.length} real jobs and one default job on the local stack`);
    const local = await timed(() =>
      runLocalTask(
        {
          kind: 'workflow',
          timeScale: quick ? CONFIRM_TIME_SCALE.quick : CONFIRM_TIME_SCALE.full,
          seed,
          confirmShapes: shapes.map((s) => ({ ...s })),
          simulationsPerJob: 200,
        },
        15 * 60_000,
      ),
    );
    const result = local.result as Extract<LocalTaskResult, { kind: 'workflow' }> | undefined;
    const failed = local.error === undefined ? {} : { error: local.error };
    confirmation = { seconds: local.seconds, ...failed, ...(result ? { result: result.confirmation } : {}) };
    overhead = {
      seconds: local.seconds,
      ...failed,
      ...(result
        ? {
            result: workflowOverheadReport(result.overhead, {
              memoryMb: result.memoryMb,
              prices: AWS_PRICES,
              typicalPolls,
              twoSecondLoopPolls,
              segmindPriceRangeUsd: SEGMIND_PRICE_RANGE_USD,
            }),
          }
        : {}),
    };
  }
  if (parts.has('polling')) {
    // A failed confirmation does not hide the simulation's own figures: it shows as its own target.
    report.parts.polling = {
      seconds: simulationSeconds + (confirmation?.seconds ?? 0),
      result: {
        simulation,
        ...(confirmation?.result ? { confirmation: confirmation.result } : {}),
        ...(confirmation?.error ? { confirmationError: confirmation.error } : {}),
      },
    };
  }
  if (parts.has('workflow') && overhead) report.parts.workflowOverhead = overhead;

  if (parts.has('cold-start')) {
    progress('cold start: bundling every Lambda with CDK and importing each in fresh processes');
    report.parts.coldStart = await timed<ColdStartResult>(() => runColdStartBench({ quick }));
  }

  if (parts.has('batch')) {
    if (!existsSync(join(PROJECT_ROOT, 'infra', 'local', 'batch-runner.ts'))) {
      report.parts.batch = {
        seconds: 0,
        pending: 'infra/local/batch-runner.ts (runLocalBatch) does not exist yet',
      };
    } else {
      progress(`batch: ${settings.batchLines} lines at ${RATE_LIMIT_PER_MINUTE} RPM on the local stack`);
      const batch = await timed(() =>
        runLocalTask(
          {
            kind: 'batch',
            timeScale: quick ? BATCH_TIME_SCALE.quick : BATCH_TIME_SCALE.full,
            seed,
            lines: settings.batchLines,
            rateLimitPerMinute: RATE_LIMIT_PER_MINUTE,
            ...(settings.batchConcurrency === undefined ? {} : { concurrency: settings.batchConcurrency }),
          },
          60 * 60_000,
        ),
      );
      const result = batch.result as Extract<LocalTaskResult, { kind: 'batch' }> | undefined;
      report.parts.batch = {
        seconds: batch.seconds,
        ...(batch.error === undefined ? {} : { error: batch.error }),
        ...(result ? { result: result.batch as BatchBenchResult } : {}),
      };
    }
  }

  if (parts.has('burst')) {
    progress(
      `burst: ${settings.burstJobs} API jobs at concurrency ${BURST.concurrency}, ${BURST.rateLimitPerMinute} RPM`,
    );
    const burst = await timed(() =>
      runLocalTask(
        {
          kind: 'burst',
          timeScale: BURST.timeScale,
          seed,
          jobs: settings.burstJobs,
          concurrency: BURST.concurrency,
          rateLimitPerMinute: BURST.rateLimitPerMinute,
        },
        30 * 60_000,
      ),
    );
    const result = burst.result as Extract<LocalTaskResult, { kind: 'burst' }> | undefined;
    report.parts.burst = {
      seconds: burst.seconds,
      ...(burst.error === undefined ? {} : { error: burst.error }),
      ...(result ? { result: result.burst } : {}),
    };
  }

  // The copy runs last and alone: it measures throughput and memory, which other parts would disturb.
  let copyText: ((copy: import('#bench/copy').CopyBenchResult) => string) | undefined;
  if (parts.has('copy')) {
    if (!existsSync(join(PROJECT_ROOT, 'bench', 'copy.ts'))) {
      report.parts.copy = { seconds: 0, pending: 'bench/copy.ts does not exist yet' };
    } else {
      progress('copy: store-video vs raw download vs buffer-then-PutObject');
      const copy = await import('#bench/copy');
      copyText = copy.formatCopyReport;
      report.parts.copy = await timed(() => copy.runCopyBench({ quick }));
    }
  }

  report.targets = evaluateTargets(report.parts);
  report.finishedAt = new Date().toISOString();
  await writeReport(report, settings.out);
  console.log(formatReport(report, copyText));
  console.log(`\nJSON: ${settings.out}; ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s in all.`);
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
