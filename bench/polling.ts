// Part 1 of the bench: what polling costs. Every strategy — our policy and the SDK-style baselines — meets
// the same simulated jobs, whose completion times are drawn from the emulator's own latency model, on a
// virtual clock. confirmOnLocalStack then runs a few real jobs through the local stack and checks that the
// emulator's request counters agree with what the simulation predicts for those very jobs.
import {
  BASELINES,
  type BaselineStrategy,
  type PollOutcome,
  simulateBaseline,
  stateMachineLoopPolls,
} from '#bench/baselines';
import { mean, round, type Summary, summarize } from '#bench/stats';
import type { JobShape } from '#domain/expected-duration';
import { DEFAULT_POLLING_POLICY, type PollingPolicy } from '#domain/polling-policy';
import { simulatePolling } from '#domain/polling-simulation';
import { DURATIONS, type Duration, RESOLUTIONS, type Resolution } from '#domain/video-request';
import type { LatencyModel } from '#emulator/control';
import { DEFAULT_LATENCY_MODEL, drawLatency, mulberry32 } from '#emulator/index';

export const POLICY_ID = 'policy';
/** Segmind Pro's limit; every request (submit, status, result) counts. */
export const RATE_LIMIT_PER_MINUTE = 50;

export interface JobConfiguration extends JobShape {
  /** e.g. `2k/8s/audio/text` or `4k/10s/silent/image`. */
  id: string;
}

export const configurationId = (shape: JobShape): string =>
  `${shape.resolution}/${shape.duration}s/${shape.generateAudio ? 'audio' : 'silent'}/${shape.hasImage ? 'image' : 'text'}`;

/** 1080p/2k/4k × 6/8/10 s × audio on/off × with/without an image: 36 configurations. */
export const CONFIGURATIONS: readonly JobConfiguration[] = Object.freeze(
  RESOLUTIONS.flatMap((resolution) =>
    DURATIONS.flatMap((duration) =>
      [true, false].flatMap((generateAudio) =>
        [false, true].map((hasImage) => {
          const shape = { resolution, duration, generateAudio, hasImage };
          return Object.freeze({ id: configurationId(shape), ...shape });
        }),
      ),
    ),
  ),
);

/** The default request (2k, 8 s, audio, no image): the row the targets are stated for. */
export const DEFAULT_CONFIGURATION_ID = '2k/8s/audio/text';

/** Videos per hour that a rate limit allows when each video costs `meanRequestsPerVideo` requests. */
export const videosPerHour = (
  meanRequestsPerVideo: number,
  rateLimitPerMinute = RATE_LIMIT_PER_MINUTE,
): number => (meanRequestsPerVideo > 0 ? (rateLimitPerMinute * 60) / meanRequestsPerVideo : Number.NaN);

export interface StrategyStats {
  strategy: string;
  label: string;
  requests: Summary;
  detectionDelaySeconds: Summary;
  polls: Summary;
  gaveUp: number;
  /** From the MEAN requests per video: a rate limit caps throughput by the average, not the median. */
  videosPerHour: number;
}

export interface ConfigurationResult {
  configuration: string;
  shape: JobShape;
  /** Drawn completion times (queue + inference), seconds after the submit. */
  completionSeconds: Summary;
  coldWorkers: number;
  strategies: StrategyStats[];
  /** Polls of the SDK's 2 s cadence as a state machine loop (a Wait before every poll), for part 3. */
  twoSecondLoopPolls: Summary;
}

export interface PollingSimulationOptions {
  jobsPerConfiguration: number;
  seed: number;
  configurations?: readonly JobConfiguration[];
  policy?: PollingPolicy;
  baselines?: readonly BaselineStrategy[];
  latencyModel?: LatencyModel;
  rateLimitPerMinute?: number;
}

export interface PollingSimulationReport {
  jobsPerConfiguration: number;
  seed: number;
  rateLimitPerMinute: number;
  policy: PollingPolicy;
  baselines: Array<{ id: string; label: string; note: string }>;
  configurations: ConfigurationResult[];
  /** Every configuration's jobs pooled, per strategy. */
  aggregate: StrategyStats[];
}

/** A stand-in image URL: the latency model only asks whether there is one. */
const IMAGE_URL = 'https://example.invalid/first-frame.png';

/** Independent, reproducible streams per configuration and purpose (so adding one shifts no other). */
const streamSeed = (seed: number, configurationIndex: number, purpose: number): number =>
  (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(configurationIndex + 1, 0xc2b2ae35) + purpose) >>> 0;

interface DrawnJob {
  queueSeconds: number;
  completesAtSeconds: number;
  coldWorker: boolean;
}

const drawJobs = (shape: JobShape, count: number, random: () => number, model: LatencyModel): DrawnJob[] =>
  Array.from({ length: count }, () => {
    const draw = drawLatency(
      model,
      {
        resolution: shape.resolution,
        duration: shape.duration,
        generate_audio: shape.generateAudio,
        image: shape.hasImage ? IMAGE_URL : null,
      },
      random,
    );
    return {
      queueSeconds: draw.queueSeconds,
      completesAtSeconds: draw.queueSeconds + draw.inferenceSeconds,
      coldWorker: draw.coldWorker,
    };
  });

/** Our policy on one job: the job reports QUEUED until its drawn queue time, PROCESSING until done. */
export const simulatePolicy = (
  shape: JobShape,
  job: { queueSeconds: number; completesAtSeconds: number },
  random: () => number,
  policy: PollingPolicy = DEFAULT_POLLING_POLICY,
): PollOutcome => {
  const result = simulatePolling({
    job: shape,
    completesAtSeconds: job.completesAtSeconds,
    queuedUntilSeconds: job.queueSeconds,
    random,
    policy,
  });
  return {
    requests: result.requests,
    polls: result.polls,
    detectionDelaySeconds: result.detectionDelaySeconds,
    gaveUp: result.gaveUp,
  };
};

export const strategyStats = (
  strategy: string,
  label: string,
  outcomes: readonly PollOutcome[],
  rateLimitPerMinute = RATE_LIMIT_PER_MINUTE,
): StrategyStats => {
  const requests = summarize(outcomes.map((o) => o.requests));
  return {
    strategy,
    label,
    requests,
    // Jobs given up on have no detection delay; they are counted in gaveUp instead.
    detectionDelaySeconds: summarize(outcomes.filter((o) => !o.gaveUp).map((o) => o.detectionDelaySeconds)),
    polls: summarize(outcomes.map((o) => o.polls)),
    gaveUp: outcomes.filter((o) => o.gaveUp).length,
    videosPerHour: videosPerHour(requests.mean, rateLimitPerMinute),
  };
};

export const simulatePollingMatrix = (options: PollingSimulationOptions): PollingSimulationReport => {
  const configurations = options.configurations ?? CONFIGURATIONS;
  const policy = options.policy ?? DEFAULT_POLLING_POLICY;
  const baselines = options.baselines ?? BASELINES;
  const model = options.latencyModel ?? DEFAULT_LATENCY_MODEL;
  const rpm = options.rateLimitPerMinute ?? RATE_LIMIT_PER_MINUTE;
  if (!(Number.isInteger(options.jobsPerConfiguration) && options.jobsPerConfiguration > 0)) {
    throw new RangeError(
      `jobsPerConfiguration must be a positive integer, got ${options.jobsPerConfiguration}`,
    );
  }

  const pooled = new Map<string, PollOutcome[]>();
  const pool = (id: string, outcomes: PollOutcome[]): void => {
    const all = pooled.get(id) ?? [];
    for (const outcome of outcomes) all.push(outcome);
    pooled.set(id, all);
  };
  const labels = new Map<string, string>([
    [POLICY_ID, 'our policy'],
    ...baselines.map((b): [string, string] => [b.id, b.label]),
  ]);

  const results = configurations.map((configuration, index): ConfigurationResult => {
    const shape: JobShape = {
      resolution: configuration.resolution,
      duration: configuration.duration,
      generateAudio: configuration.generateAudio,
      hasImage: configuration.hasImage,
    };
    const jobs = drawJobs(
      shape,
      options.jobsPerConfiguration,
      mulberry32(streamSeed(options.seed, index, 1)),
      model,
    );
    const jitter = mulberry32(streamSeed(options.seed, index, 2));
    const policyOutcomes = jobs.map((job) => simulatePolicy(shape, job, jitter, policy));
    pool(POLICY_ID, policyOutcomes);
    const strategies = [strategyStats(POLICY_ID, labels.get(POLICY_ID) ?? POLICY_ID, policyOutcomes, rpm)];
    for (const baseline of baselines) {
      const outcomes = jobs.map((job) => simulateBaseline(baseline, job.completesAtSeconds));
      pool(baseline.id, outcomes);
      strategies.push(strategyStats(baseline.id, baseline.label, outcomes, rpm));
    }
    return {
      configuration: configuration.id,
      shape,
      completionSeconds: summarize(jobs.map((job) => round(job.completesAtSeconds, 3))),
      coldWorkers: jobs.filter((job) => job.coldWorker).length,
      strategies,
      twoSecondLoopPolls: summarize(jobs.map((job) => stateMachineLoopPolls(job.completesAtSeconds, 2))),
    };
  });

  return {
    jobsPerConfiguration: options.jobsPerConfiguration,
    seed: options.seed,
    rateLimitPerMinute: rpm,
    policy,
    baselines: baselines.map(({ id, label, note }) => ({ id, label, note })),
    configurations: results,
    aggregate: [...pooled].map(([id, outcomes]) => strategyStats(id, labels.get(id) ?? id, outcomes, rpm)),
  };
};

// ---- Confirmation on the local stack: real jobs, the emulator's counters, the simulation's prediction ----

/** The part of the local stack the confirmation uses (a LocalStack from #local/stack satisfies it). */
export interface ConfirmationStack {
  timeScale: number;
  emulator?: {
    control: { jobs(): EmulatorJobLike[] };
    prepareVideos(shapes: Array<Omit<JobShape, 'hasImage'>>): Promise<void>;
  };
  runJob(
    request: { prompt: string; resolution: Resolution; duration: Duration; generateAudio: boolean },
    options: { jobId: string; onEvent?: (event: TimedEvent) => void },
  ): Promise<{
    job: { status: string; segmindRequestId?: string; submittedAt?: string };
    stats?: { segmindRequests?: Partial<Record<string, number>> };
  }>;
}

interface EmulatorJobLike {
  requestId: string;
  /** Real time the emulator accepted the submit. */
  submittedAt: string;
  queueSeconds: number;
  inferenceSeconds: number;
  coldWorker: boolean;
  finishedAt: string | null;
}

interface TimedEvent {
  type: string;
  timestamp: number;
  state?: { name: string };
}

export interface RealJobCheck {
  jobId: string;
  configuration: string;
  status: string;
  /** The emulator's drawn latency for this job: seconds after the submit at which it completes. */
  completesAtSeconds: number;
  /**
   * What the simulation is given, in the policy's frame: the completion counted from the moment our
   * Submit recorded (after Segmind's answer), and each poll's own duration (Lambda + HTTP), both measured.
   */
  simulatedWith: { completesAtSeconds: number; pollOverheadSeconds: number };
  coldWorker: boolean;
  /** Requests the emulator served for this job (counters before/after; jobs run one at a time). */
  emulator: { submit: number; status: number; result: number; requests: number; downloads: number };
  /** simulatePolling on the same completion time, over many jitter draws (the real run draws its own). */
  simulated: { min: number; median: number; max: number; mean: number };
  withinSimulatedRange: boolean;
  equalsSimulatedMedian: boolean;
  /** Emulated seconds from the emulator's completion to the PollStatus that saw it. */
  detectionDelaySeconds: number;
}

export interface LocalConfirmation {
  timeScale: number;
  simulationsPerJob: number;
  jobs: RealJobCheck[];
  /** Jobs whose real request count is one the simulation produces for that completion time. */
  withinSimulatedRange: number;
  equalsSimulatedMedian: number;
  realRequests: number;
  /** Sum over the jobs of the simulation's mean requests. */
  simulatedRequests: number;
  agrees: boolean;
}

export interface ConfirmationOptions {
  shapes: ReadonlyArray<Omit<JobShape, 'hasImage'>>;
  seed: number;
  /** Jitter draws simulated per real job. @default 200 */
  simulationsPerJob?: number;
}

export const confirmOnLocalStack = async (
  stack: ConfirmationStack,
  options: ConfirmationOptions,
): Promise<LocalConfirmation> => {
  const emulator = stack.emulator;
  if (!emulator) throw new Error('the polling confirmation needs the emulator (its counters and latencies)');
  const simulations = options.simulationsPerJob ?? 200;
  await emulator.prepareVideos([...options.shapes]);

  const checks: RealJobCheck[] = [];
  for (const [index, base] of options.shapes.entries()) {
    const shape: JobShape = { ...base, hasImage: false };
    const jobId = `bench-poll-${options.seed}-${index}`;
    let lastPollAt = Number.NaN;
    const pollMs: number[] = [];
    const run = await stack.runJob(
      { prompt: `bench polling job ${index}`, ...base },
      {
        jobId,
        onEvent: (event) => {
          if (event.state?.name !== 'PollStatus') return;
          if (event.type === 'StateEntered') lastPollAt = event.timestamp;
          else if (event.type === 'StateExited') pollMs.push(event.timestamp - lastPollAt);
        },
      },
    );
    const drawn = emulator.control.jobs().find((job) => job.requestId === run.job.segmindRequestId);
    if (!drawn) throw new Error(`job ${jobId}: the emulator has no job ${run.job.segmindRequestId}`);
    const counts = run.stats?.segmindRequests ?? {};
    const submit = counts.submit ?? 0;
    const status = counts.status ?? 0;
    const result = counts.result ?? 0;
    const requests = submit + status + result;

    const completesAt = drawn.queueSeconds + drawn.inferenceSeconds;
    // Emulated seconds between the emulator accepting the submit and our Submit recording it: the policy
    // counts from the latter.
    const recordedLate =
      run.job.submittedAt === undefined
        ? 0
        : Math.max(
            0,
            ((Date.parse(run.job.submittedAt) - Date.parse(drawn.submittedAt)) / 1000) * stack.timeScale,
          );
    const measuredOverhead = (mean(pollMs) / 1000) * stack.timeScale;
    const pollOverheadSeconds = Number.isFinite(measuredOverhead) ? measuredOverhead : 0;
    const jitter = mulberry32(streamSeed(options.seed, index, 3));
    const predicted = summarize(
      Array.from(
        { length: simulations },
        () =>
          simulatePolling({
            job: shape,
            completesAtSeconds: completesAt - recordedLate,
            queuedUntilSeconds: drawn.queueSeconds - recordedLate,
            pollOverheadSeconds,
            random: jitter,
          }).requests,
      ),
    );
    const finishedAt = drawn.finishedAt === null ? Number.NaN : Date.parse(drawn.finishedAt);
    checks.push({
      jobId,
      configuration: configurationId(shape),
      status: run.job.status,
      completesAtSeconds: round(completesAt, 3),
      simulatedWith: {
        completesAtSeconds: round(completesAt - recordedLate, 3),
        pollOverheadSeconds: round(pollOverheadSeconds, 3),
      },
      coldWorker: drawn.coldWorker,
      emulator: { submit, status, result, requests, downloads: counts.download ?? 0 },
      simulated: {
        min: predicted.min,
        median: predicted.median,
        max: predicted.max,
        mean: round(predicted.mean),
      },
      withinSimulatedRange: requests >= predicted.min && requests <= predicted.max,
      equalsSimulatedMedian: requests === predicted.median,
      // The poll is entered a few real ms before its request leaves: clamp that noise at zero.
      detectionDelaySeconds: round(Math.max(0, ((lastPollAt - finishedAt) / 1000) * stack.timeScale), 2),
    });
  }
  const within = checks.filter((c) => c.withinSimulatedRange).length;
  return {
    timeScale: stack.timeScale,
    simulationsPerJob: simulations,
    jobs: checks,
    withinSimulatedRange: within,
    equalsSimulatedMedian: checks.filter((c) => c.equalsSimulatedMedian).length,
    realRequests: checks.reduce((sum, c) => sum + c.emulator.requests, 0),
    simulatedRequests: round(checks.reduce((sum, c) => sum + c.simulated.mean, 0)),
    agrees: within === checks.length && checks.every((c) => c.status === 'COMPLETED'),
  };
};
