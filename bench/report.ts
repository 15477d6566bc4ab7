// The bench's output: every part's figures in one JSON document (.bench/latest.json), every target judged
// met / NOT met / pending from those figures, and the plain-text tables printed on stdout.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { BatchBenchResult } from '#bench/batch';
import { BATCH_BOUND_TARGET_RATIO } from '#bench/batch';
import { BURST_BOUND_TARGET_RATIO, type BurstBenchResult, formatBurst } from '#bench/burst';
import { BUNDLE_TARGET_BYTES, type ColdStartResult, IMPORT_TARGET_MS } from '#bench/cold-start';
import type { CopyBenchResult } from '#bench/copy';
import {
  DEFAULT_CONFIGURATION_ID,
  type LocalConfirmation,
  POLICY_ID,
  type PollingSimulationReport,
  type StrategyStats,
} from '#bench/polling';
import {
  FIXED_TRANSITIONS_TARGET,
  PER_POLL_TRANSITIONS_TARGET,
  type WorkflowOverheadResult,
} from '#bench/workflow-overhead';

export type TargetStatus = 'met' | 'NOT met' | 'pending';

export interface TargetResult {
  part: string;
  name: string;
  target: string;
  value: string;
  status: TargetStatus;
}

export interface MachineInfo {
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  freeMemoryGb: number;
  /** 1-minute load average when the bench started: a busy machine slows the timing parts. */
  loadAverage: number;
}

export interface PartOutcome<T> {
  seconds: number;
  result?: T;
  /** Why the part has no result: it failed, or it could not run yet. */
  error?: string;
  pending?: string;
}

export interface BenchReport {
  command: string;
  quick: boolean;
  seed: number;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  parts: {
    polling?: PartOutcome<{
      simulation: PollingSimulationReport;
      confirmation?: LocalConfirmation;
      /** Why the confirmation on the local stack has no result. */
      confirmationError?: string;
    }>;
    copy?: PartOutcome<CopyBenchResult>;
    workflowOverhead?: PartOutcome<WorkflowOverheadResult>;
    coldStart?: PartOutcome<ColdStartResult>;
    batch?: PartOutcome<BatchBenchResult>;
    burst?: PartOutcome<BurstBenchResult>;
  };
  targets: TargetResult[];
}

export const machineInfo = (): MachineInfo => ({
  node: process.version,
  platform: `${platform()} ${release()}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  freeMemoryGb: Math.round((freemem() / 1024 ** 3) * 10) / 10,
  loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
});

// ---- targets ----

const status = (met: boolean): TargetStatus => (met ? 'met' : 'NOT met');
const fixed = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : '–';

export const defaultPolicyStats = (simulation: PollingSimulationReport): StrategyStats | undefined =>
  simulation.configurations
    .find((c) => c.configuration === DEFAULT_CONFIGURATION_ID)
    ?.strategies.find((s) => s.strategy === POLICY_ID);

export const pollingTargets = (
  simulation: PollingSimulationReport,
  confirmation: LocalConfirmation | undefined,
  confirmationError?: string,
): TargetResult[] => {
  const policy = defaultPolicyStats(simulation);
  if (!policy) return [];
  const part = 'polling';
  const at = `(${DEFAULT_CONFIGURATION_ID})`;
  const targets: TargetResult[] = [
    {
      part,
      name: `requests per video, median ${at}`,
      target: '≤ 7',
      value: fixed(policy.requests.median, 0),
      status: status(policy.requests.median <= 7),
    },
    {
      part,
      name: `requests per video, p95 ${at}`,
      target: '≤ 20',
      value: fixed(policy.requests.p95, 0),
      status: status(policy.requests.p95 <= 20),
    },
    {
      part,
      name: `detection delay, median ${at}`,
      target: '≤ 1.5 s',
      value: `${fixed(policy.detectionDelaySeconds.median, 2)} s`,
      status: status(policy.detectionDelaySeconds.median <= 1.5),
    },
    {
      part,
      name: `detection delay, p95 ${at}`,
      target: '≤ 3 s',
      value: `${fixed(policy.detectionDelaySeconds.p95, 2)} s`,
      status: status(policy.detectionDelaySeconds.p95 <= 3),
    },
  ];
  if (confirmation) {
    targets.push({
      part,
      name: 'real jobs: emulator counters match the simulation',
      target: 'every job within the simulated range',
      value:
        `${confirmation.withinSimulatedRange}/${confirmation.jobs.length} jobs; ` +
        `${confirmation.realRequests} requests counted vs ${confirmation.simulatedRequests} simulated`,
      status: status(confirmation.agrees),
    });
  } else if (confirmationError !== undefined) {
    targets.push({
      part,
      name: 'real jobs: emulator counters match the simulation',
      target: 'every job within the simulated range',
      value: `did not run: ${confirmationError.split('\n')[0] ?? ''}`,
      status: 'NOT met',
    });
  }
  return targets;
};

export const copyTargets = (copy: CopyBenchResult): TargetResult[] =>
  copy.skipped
    ? [{ part: 'copy', name: 'copy bench', target: 'runs', value: copy.skipped, status: 'pending' }]
    : copy.targets.map((t) => ({
        part: 'copy',
        name: t.name,
        target: t.target,
        value: t.value,
        status: status(t.met),
      }));

export const workflowTargets = (overhead: WorkflowOverheadResult): TargetResult[] => {
  const typical = overhead.scenarios[1];
  return [
    {
      part: 'workflow',
      name: 'state transitions per status poll',
      target: `≤ ${PER_POLL_TRANSITIONS_TARGET}`,
      value: fixed(overhead.targets.perPollTransitions, 1),
      status: status(overhead.targets.perPollTransitions <= PER_POLL_TRANSITIONS_TARGET),
    },
    {
      part: 'workflow',
      name: 'fixed state transitions per video',
      target: `≤ ${FIXED_TRANSITIONS_TARGET}`,
      value:
        `${fixed(overhead.targets.fixedTransitions, 0)}` +
        (typical ? ` (typical 2k/8 s job: ${fixed(typical.usage.stateTransitions, 0)} in all)` : ''),
      status: status(overhead.targets.fixedTransitions <= FIXED_TRANSITIONS_TARGET),
    },
  ];
};

export const coldStartTargets = (coldStart: ColdStartResult): TargetResult[] => {
  const n = coldStart.bundles.length;
  const largest = coldStart.bundles.reduce((a, b) => (b.bundleBytes > a.bundleBytes ? b : a));
  const slowest = coldStart.bundles.reduce((a, b) => (b.importMedianMs > a.importMedianMs ? b : a));
  const small = coldStart.bundles.filter((b) => b.bundleMet).length;
  const quick = coldStart.bundles.filter((b) => b.importMet).length;
  return [
    {
      part: 'cold start',
      name: 'bundle size, each Lambda',
      target: `≤ ${BUNDLE_TARGET_BYTES / 1e6} MB`,
      value: `${small}/${n} within; largest ${(largest.bundleBytes / 1e6).toFixed(2)} MB (${largest.entry})`,
      status: status(small === n),
    },
    {
      part: 'cold start',
      name: `import time, median of ${coldStart.runs}, each Lambda`,
      target: `≤ ${IMPORT_TARGET_MS} ms`,
      value: `${quick}/${n} within; slowest ${slowest.importMedianMs.toFixed(0)} ms (${slowest.entry})`,
      status: status(quick === n),
    },
  ];
};

export const batchTargets = (batch: BatchBenchResult): TargetResult[] => [
  {
    part: 'batch',
    name: `${batch.lines}-line batch wall time vs the ${batch.rateLimitPerMinute} RPM bound`,
    target: `≤ ${BATCH_BOUND_TARGET_RATIO}×`,
    value: `${batch.ratioToBound.toFixed(2)}× (${batch.wallSeconds.toFixed(1)} s vs ${batch.bound.realSeconds.toFixed(1)} s)`,
    status: status(batch.targets.withinBound),
  },
  {
    part: 'batch',
    name: 'jobs lost',
    target: '0',
    value: String(batch.jobsLost),
    status: status(batch.targets.noneLost),
  },
  {
    part: 'batch',
    name: 'failures caused by 429',
    target: '0',
    value: `${batch.failuresFromThrottling} (${batch.throttled} 429s seen)`,
    status: status(batch.targets.noThrottlingFailures),
  },
];

export const burstTargets = (burst: BurstBenchResult): TargetResult[] => [
  {
    part: 'burst',
    name: `${burst.jobs} API jobs at concurrency ${burst.concurrency}, ${burst.rateLimitPerMinute} RPM: COMPLETED`,
    target: `${burst.jobs}/${burst.jobs}`,
    value: `${burst.completed}/${burst.jobs} (${burst.failed} FAILED, ${burst.failedByThrottling} by 429)`,
    status: status(burst.targets.allCompleted && burst.targets.noneFailedByThrottling),
  },
  {
    part: 'burst',
    name: `burst wall time vs the ${burst.rateLimitPerMinute} RPM bound`,
    target: `≤ ${BURST_BOUND_TARGET_RATIO}×`,
    value: `${burst.ratioToBound.toFixed(2)}× (${burst.wallSeconds.toFixed(1)} s vs ${burst.bound.realSeconds.toFixed(1)} s; ${burst.throttled} 429s)`,
    status: status(burst.targets.withinBound),
  },
];

/** Every target of the issue, judged on the parts that ran; parts that did not run leave theirs pending. */
export const evaluateTargets = (parts: BenchReport['parts']): TargetResult[] => {
  const pending = (part: string, outcome: PartOutcome<unknown> | undefined): TargetResult[] => [
    {
      part,
      name: `${part} targets`,
      target: '—',
      value: outcome?.error ?? outcome?.pending ?? 'not run',
      status: 'pending',
    },
  ];
  const polling = parts.polling?.result;
  return [
    ...(polling
      ? pollingTargets(polling.simulation, polling.confirmation)
      : pending('polling', parts.polling)),
    ...(parts.copy?.result ? copyTargets(parts.copy.result) : pending('copy', parts.copy)),
    ...(parts.workflowOverhead?.result
      ? workflowTargets(parts.workflowOverhead.result)
      : pending('workflow', parts.workflowOverhead)),
    ...(parts.coldStart?.result?.bundles.length
      ? coldStartTargets(parts.coldStart.result)
      : pending('cold start', parts.coldStart)),
    ...(parts.batch?.result ? batchTargets(parts.batch.result) : pending('batch', parts.batch)),
    ...(parts.burst?.result ? burstTargets(parts.burst.result) : pending('burst', parts.burst)),
  ];
};

// ---- text ----

/** A plain table: the first row is the header; columns listed in `right` are right-aligned. */
export const formatTable = (rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()) => {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  if (!header) return '';
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
};

/** A unit price as AWS quotes it: per unit, per 1,000 or per million units. */
const unitPrice = (line: { unitPriceUsd: number; unit: string; quotedPer: number }): string => {
  const per = line.quotedPer === 1e6 ? 'M ' : line.quotedPer === 1000 ? '1k ' : '';
  return `$${Number((line.unitPriceUsd * line.quotedPer).toPrecision(6))}/${per}${line.unit}`;
};

/** Dollars to three significant digits, written out (no exponent): $0.000525, $0.000000125. */
const usd = (value: number): string => {
  if (value === 0) return '$0';
  if (!Number.isFinite(value)) return '–';
  const decimals = Math.min(12, Math.max(2, 2 - Math.floor(Math.log10(Math.abs(value)))));
  return `$${value.toFixed(decimals)}`;
};

const strategyRows = (strategies: readonly StrategyStats[]): string[][] =>
  strategies.map((s) => [
    s.label,
    fixed(s.requests.median, 0),
    fixed(s.requests.p95, 0),
    fixed(s.requests.mean, 2),
    fixed(s.detectionDelaySeconds.median, 2),
    fixed(s.detectionDelaySeconds.p95, 2),
    fixed(s.videosPerHour, 0),
    s.gaveUp > 0 ? String(s.gaveUp) : '',
  ]);

const STRATEGY_HEADER = [
  'strategy',
  'req med',
  'req p95',
  'req mean',
  'delay med s',
  'delay p95 s',
  'videos/h @50 RPM',
  'gave up',
];
const STRATEGY_RIGHT = new Set([1, 2, 3, 4, 5, 6, 7]);

const formatPolling = (
  simulation: PollingSimulationReport,
  confirmation: LocalConfirmation | undefined,
): string[] => {
  const lines = [
    `Upstream requests per video (submit + polls + result) and completion-detection delay; ` +
      `${simulation.jobsPerConfiguration} simulated jobs × ${simulation.configurations.length} configurations ` +
      `(seed ${simulation.seed}), latencies from the emulator's DEFAULT_LATENCY_MODEL, virtual clock.`,
    'Baselines are the Segmind SDK loop (poll at once, then sleep); videos/h = 50 × 60 / mean requests.',
  ];
  const defaultRow = simulation.configurations.find((c) => c.configuration === DEFAULT_CONFIGURATION_ID);
  if (defaultRow) {
    lines.push(
      '',
      `Default job ${DEFAULT_CONFIGURATION_ID} (completion median ${fixed(defaultRow.completionSeconds.median, 1)} s, ` +
        `p95 ${fixed(defaultRow.completionSeconds.p95, 1)} s):`,
      formatTable([STRATEGY_HEADER, ...strategyRows(defaultRow.strategies)], STRATEGY_RIGHT),
    );
  }
  lines.push(
    '',
    `All ${simulation.configurations.length} configurations pooled:`,
    formatTable([STRATEGY_HEADER, ...strategyRows(simulation.aggregate)], STRATEGY_RIGHT),
  );
  // Our policy per configuration, compact: where it does well and where it does not.
  const policyRows = simulation.configurations.map((c) => {
    const s = c.strategies.find((x) => x.strategy === POLICY_ID);
    return [
      c.configuration,
      fixed(c.completionSeconds.median, 1),
      fixed(s?.requests.median ?? Number.NaN, 0),
      fixed(s?.requests.p95 ?? Number.NaN, 0),
      fixed(s?.detectionDelaySeconds.median ?? Number.NaN, 2),
      fixed(s?.detectionDelaySeconds.p95 ?? Number.NaN, 2),
    ];
  });
  const worst = (column: number, name: string, unit = '') => {
    const sorted = [...policyRows].sort((a, b) => Number(b[column]) - Number(a[column]));
    return `${name} ${sorted[0]?.[column] ?? '–'}${unit} (${sorted[0]?.[0] ?? '–'})`;
  };
  lines.push(
    '',
    `Our policy, worst configuration: ${worst(3, 'requests p95')}; ${worst(4, 'delay median', ' s')}; ` +
      `${worst(5, 'delay p95', ' s')} (every configuration is in .bench/latest.json).`,
  );
  const twoK8 = simulation.configurations.filter((c) => c.configuration.startsWith('2k/8s/'));
  if (twoK8.length > 0) {
    lines.push(
      '2k/8 s variants (our policy): ' +
        twoK8
          .map((c) => {
            const s = c.strategies.find((x) => x.strategy === POLICY_ID);
            return (
              `${c.configuration.slice('2k/8s/'.length)} ${fixed(s?.requests.median ?? Number.NaN, 0)}/` +
              `${fixed(s?.requests.p95 ?? Number.NaN, 0)} req, ${fixed(s?.detectionDelaySeconds.median ?? Number.NaN, 2)}/` +
              `${fixed(s?.detectionDelaySeconds.p95 ?? Number.NaN, 2)} s`
            );
          })
          .join('; ') +
        ' (median/p95).',
    );
  }
  if (confirmation) {
    lines.push(
      '',
      `Real jobs through the local stack (time scale ${confirmation.timeScale}, one at a time): the emulator ` +
        `counted ${confirmation.realRequests} upstream requests for ${confirmation.jobs.length} jobs; the simulation, ` +
        `given each job's drawn latency and measured poll overhead, predicts ${confirmation.simulatedRequests}. ` +
        `${confirmation.withinSimulatedRange}/${confirmation.jobs.length} within the simulated range ` +
        `(${confirmation.simulationsPerJob} jitter draws), ${confirmation.equalsSimulatedMedian} equal to its median.`,
      formatTable(
        [
          ['job', 'completes s', 'emulator req', 'simulated min–max (median)', 'delay s'],
          ...confirmation.jobs.map((j) => [
            j.configuration,
            fixed(j.completesAtSeconds, 1),
            String(j.emulator.requests),
            `${j.simulated.min}–${j.simulated.max} (${j.simulated.median})`,
            fixed(j.detectionDelaySeconds, 2),
          ]),
        ],
        new Set([1, 2, 4]),
      ),
    );
  }
  return lines;
};

const formatOverhead = (overhead: WorkflowOverheadResult): string[] => {
  const m = overhead.measured;
  const lines = [
    `One default job through the local stack (${m.status}, ${m.polls} polls): ${m.stateTransitions} state ` +
      `transitions, ${Object.values(m.lambdaInvocations).reduce((a, b) => a + b, 0)} Lambda invocations ` +
      `(${Object.entries(m.lambdaInvocations)
        .map(([h, n]) => `${h} ${n}`)
        .join(', ')}), ${m.dynamodbWrites} DynamoDB writes, ${m.retries} retries.`,
    `Per video: fixed ${fixed(overhead.model.fixed.stateTransitions, 0)} transitions + ` +
      `${fixed(overhead.model.perPoll.stateTransitions, 1)} per poll.`,
  ];
  const header = ['per video', ...overhead.scenarios.map((s) => s.name)];
  const row = (name: string, pick: (s: WorkflowOverheadResult['scenarios'][number]) => string) => [
    name,
    ...overhead.scenarios.map(pick),
  ];
  const scenarioRows = [
    row('state transitions', (s) => fixed(s.usage.stateTransitions, 0)),
    row('Lambda invocations', (s) =>
      fixed(
        Object.values(s.usage.lambdaInvocations).reduce((a, b) => a + b, 0),
        0,
      ),
    ),
    row('Segmind requests', (s) => fixed(s.usage.segmindRequests, 0)),
    ...(overhead.scenarios[0]?.cost.lines ?? []).map((line, index) =>
      row(`${line.item} (${unitPrice(line)})`, (s) => usd(s.cost.lines[index]?.usd ?? 0)),
    ),
    row('AWS total per video', (s) => usd(s.cost.totalUsd)),
    row('S3 storage per month kept', (s) => usd(s.cost.storagePerMonthUsd)),
  ];
  lines.push(
    '',
    formatTable([header, ...scenarioRows], new Set(overhead.scenarios.map((_, i) => i + 1))),
    '',
    `Segmind's own price, not included above: metrics.cost ${
      overhead.segmind.metricsCostUsd === undefined ? 'n/a' : `$${overhead.segmind.metricsCostUsd}`
    } (the emulator's configured cost), $${overhead.segmind.priceRangeUsd[0]}–$${overhead.segmind.priceRangeUsd[1]} ` +
      'per generation on the model page.',
    ...overhead.assumptions.map((a) => `Assumption: ${a}.`),
  );
  return lines;
};

const formatColdStart = (coldStart: ColdStartResult): string[] => [
  `Bundled by CDK's NodejsFunction (synth with bundling, ${coldStart.bundlingSeconds} s), imported in a fresh ` +
    `Node ${coldStart.nodeVersion} process with the function's template environment (NODE_OPTIONS=` +
    `--enable-source-maps), median of ${coldStart.runs} runs, one at a time. Lambda runs Node 22.`,
  formatTable(
    [
      ['function', 'entry', 'MB', 'map MB', 'import ms (median)', 'runs ms'],
      ...coldStart.bundles.map((b) => [
        b.function,
        b.entry,
        (b.bundleBytes / 1e6).toFixed(3),
        (b.sourceMapBytes / 1e6).toFixed(2),
        b.importMedianMs.toFixed(0),
        b.importMs.map((ms) => ms.toFixed(0)).join(' '),
      ]),
    ],
    new Set([2, 3, 4]),
  ),
  `Heaviest packages (average bytes per bundle, share of all bundles): ${coldStart.heaviestPackages
    .map((p) => `${p.name} ${(p.averageBytes / 1e3).toFixed(0)} kB (${(p.share * 100).toFixed(0)} %)`)
    .join(', ')}.`,
];

/** What sets the batch's pace when it is slower than the rate limit allows. */
const batchLimitNote = (batch: BatchBenchResult): string[] => {
  if (batch.targets.withinBound) return [];
  const share = batch.concurrencyBoundRequestsPerMinute / batch.rateLimitPerMinute;
  if (share >= 0.9) {
    return [
      `What limits it: the jobs' own overhead at time scale ${batch.timeScale} (each poll's real milliseconds ` +
        'count as emulated seconds), not the concurrency.',
    ];
  }
  return [
    `What limits it: MaxConcurrency ${batch.maxConcurrency} sustains at most ` +
      `${batch.concurrencyBoundRequestsPerMinute} requests per minute (${(share * 100).toFixed(0)} % of the ` +
      `${batch.rateLimitPerMinute} RPM limit), so the concurrency sizing (#domain/batch-concurrency), not the ` +
      `rate limit, sets the wall time; about ${batch.saturatingConcurrency} jobs in flight would use the whole limit.`,
  ];
};

const formatBatch = (batch: BatchBenchResult): string[] => [
  `${batch.lines} default requests through the batch state machine (Distributed Map, MaxConcurrency ` +
    `${batch.maxConcurrency}${batch.concurrencyOverridden ? ' OVERRIDDEN by --batch-concurrency' : ''}, at most ${batch.maxRunningChildren} children at once); emulator at ` +
    `${batch.rateLimitPerMinute} RPM, time scale ${batch.timeScale}.`,
  formatTable(
    [
      ['figure', 'value'],
      [
        'batch status',
        `${batch.batchStatus}${batch.summaryStatus ? ` (summary ${batch.summaryStatus})` : ''}`,
      ],
      [
        'wall time',
        `${batch.wallSeconds.toFixed(1)} s real = ${batch.emulatedMinutes.toFixed(1)} emulated min`,
      ],
      [
        'upstream requests',
        `${batch.upstreamRequests.total} (submit ${batch.upstreamRequests.submit}, status ${batch.upstreamRequests.status}, ` +
          `result ${batch.upstreamRequests.result}); ${batch.requestsPerVideo} per video`,
      ],
      [
        'rate-limit bound',
        `${batch.bound.emulatedMinutes.toFixed(1)} emulated min = ${batch.bound.realSeconds.toFixed(1)} s real`,
      ],
      ['wall ÷ bound', `${batch.ratioToBound.toFixed(2)}×`],
      [
        'average request rate',
        `${batch.averageRequestsPerMinute} per emulated minute ` +
          `(${((batch.averageRequestsPerMinute / batch.rateLimitPerMinute) * 100).toFixed(0)} % of the limit)`,
      ],
      [
        'job duration (emulated)',
        `median ${batch.jobSeconds.median.toFixed(1)} s, p95 ${batch.jobSeconds.p95.toFixed(1)} s`,
      ],
      [
        'rate MaxConcurrency allows',
        `${batch.concurrencyBoundRequestsPerMinute} per minute (${batch.maxConcurrency} × ` +
          `${batch.requestsPerVideo} requests ÷ ${(batch.jobSeconds.median / 60).toFixed(2)} min per job)`,
      ],
      ['429s seen', String(batch.throttled)],
      ['Segmind jobs created', `${batch.segmindJobsCreated} for ${batch.lines} lines`],
      ['jobs lost', String(batch.jobsLost)],
      ['failures caused by 429', String(batch.failuresFromThrottling)],
      [
        'job statuses',
        Object.entries(batch.statusCounts)
          .map(([s, n]) => `${s} ${n}`)
          .join(', '),
      ],
    ],
    new Set(),
  ),
  ...batchLimitNote(batch),
];

const section = (
  title: string,
  outcome: PartOutcome<unknown> | undefined,
  body: () => string[],
): string[] => {
  const heading = `== ${title}${outcome ? ` (${outcome.seconds.toFixed(0)} s)` : ''} ==`;
  if (!outcome) return [heading, 'not run'];
  if (outcome.error) return [heading, `FAILED: ${outcome.error}`];
  if (outcome.pending) return [heading, `PENDING: ${outcome.pending}`];
  return [heading, ...body()];
};

export const formatReport = (report: BenchReport, copyText?: (copy: CopyBenchResult) => string): string => {
  const { parts, machine } = report;
  const lines = [
    `ltx-video-pipeline bench — ${report.command}${report.quick ? ' (quick)' : ''}, seed ${report.seed}, ` +
      `${report.startedAt}`,
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB RAM, ${machine.platform}, ` +
      `Node ${machine.node}, load average ${machine.loadAverage} at start.`,
    '',
    ...section('1. Polling', parts.polling, () =>
      parts.polling?.result
        ? formatPolling(parts.polling.result.simulation, parts.polling.result.confirmation)
        : [],
    ),
    '',
    ...section('2. Copy', parts.copy, () =>
      parts.copy?.result ? [copyText ? copyText(parts.copy.result) : JSON.stringify(parts.copy.result)] : [],
    ),
    '',
    ...section('3. Workflow overhead and AWS cost', parts.workflowOverhead, () =>
      parts.workflowOverhead?.result ? formatOverhead(parts.workflowOverhead.result) : [],
    ),
    '',
    ...section('4. Cold start', parts.coldStart, () =>
      parts.coldStart?.result ? formatColdStart(parts.coldStart.result) : [],
    ),
    '',
    ...section('5. Batch under a rate limit', parts.batch, () =>
      parts.batch?.result ? formatBatch(parts.batch.result) : [],
    ),
    '',
    ...section('6. A burst of API jobs under a rate limit', parts.burst, () =>
      parts.burst?.result ? formatBurst(parts.burst.result) : [],
    ),
    '',
    '== Targets ==',
    formatTable(
      [
        ['part', 'target', 'goal', 'figure', 'status'],
        ...report.targets.map((t) => [t.part, t.name, t.target, t.value, t.status]),
      ],
      new Set(),
    ),
  ];
  return lines.join('\n');
};

export const writeReport = async (report: BenchReport, file: string): Promise<void> => {
  await mkdir(dirname(file), { recursive: true });
  // Infinity (a job given up on) is not JSON: written as null.
  await writeFile(
    file,
    `${JSON.stringify(report, (_, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`,
  );
};
