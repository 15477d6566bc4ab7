// Part 3 of the bench: what the serverless workflow itself costs per video. One default job runs through
// the local stack (the synthesized state machine, the real handlers, dynalite, s3rver, the emulator); its
// counts split into a fixed part and a part per status poll, so the same model prices our job, our typical
// job, and the Segmind SDK's 2 s cadence written as a state machine loop. Prices: bench/pricing.ts.
import { basename } from 'node:path';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DEFAULT_PART_SIZE } from '#adapters/video-upload';
import { type AwsPrices, GB } from '#bench/pricing';
import { round } from '#bench/stats';

/** The states a status poll passes through: the wait before it, the Lambda, and the Choice after it. */
export const POLL_STATES: ReadonlySet<string> = new Set([
  'WaitForFirstPoll',
  'WaitForNextPoll',
  'PollStatus',
  'IsVideoReady',
]);

/**
 * Segmind's own example result (SEGMIND_API.md): an 18.7 MB MP4. The emulator's test-pattern videos are far
 * smaller, so S3 requests, storage and the copy's duration are priced for this size instead.
 */
export const REFERENCE_VIDEO_BYTES = 18_734_112;
/** store-video's multipart part size. */
export const UPLOAD_PART_BYTES = DEFAULT_PART_SIZE;

/**
 * Billed milliseconds per invocation ON AWS, assumed (not measured there): a Lambda in us-east-1 calling
 * Segmind over the Internet (~100–250 ms per request) and DynamoDB (~5–10 ms). Warm invocations; since
 * August 2025 a cold start's INIT phase is billed too (see the cold-start part for the import times).
 */
export const ASSUMED_BILLED_MS: Readonly<Record<string, number>> = Object.freeze({
  submit: 400, // a conditional claim, the POST to Segmind, the record update
  'poll-status': 150, // one GET to Segmind, a DynamoDB write only when the status changed
  'fetch-result': 200, // one GET to Segmind, the metrics written to the record
  'store-video': 1500, // ~18.7 MB from Segmind's CDN at ≥ 20 MB/s, multipart upload, CopyObject, delete
  'record-failure': 100,
});

/** START, END and REPORT lines Lambda writes for every invocation (REPORT with its X-Ray line). */
export const LAMBDA_PLATFORM_LOG_BYTES = 400;
/**
 * Per Step Functions log record: the JSON envelope around the state's data (id, type, previous_event_id,
 * event_timestamp, execution_arn, redrive_count, details keys) plus CloudWatch's 26 bytes per event.
 */
export const STEP_FUNCTIONS_LOG_ENVELOPE_BYTES = 330;

/** Counted quantities for one video, or for one status poll. */
export interface Usage {
  stateTransitions: number;
  /** Lambda invocations by handler (`submit`, `poll-status`, …). */
  lambdaInvocations: Record<string, number>;
  dynamodbWriteUnits: number;
  dynamodbReadUnits: number;
  s3PutClassRequests: number;
  s3GetClassRequests: number;
  eventBridgeEvents: number;
  stepFunctionsLogBytes: number;
  lambdaLogBytes: number;
  segmindRequests: number;
  xrayTraces: number;
}

export interface UsageModel {
  fixed: Usage;
  perPoll: Usage;
}

const emptyUsage = (): Usage => ({
  stateTransitions: 0,
  lambdaInvocations: {},
  dynamodbWriteUnits: 0,
  dynamodbReadUnits: 0,
  s3PutClassRequests: 0,
  s3GetClassRequests: 0,
  eventBridgeEvents: 0,
  stepFunctionsLogBytes: 0,
  lambdaLogBytes: 0,
  segmindRequests: 0,
  xrayTraces: 0,
});

/** A video's usage with `polls` status polls. */
export const usageAt = (model: UsageModel, polls: number): Usage => {
  const { fixed, perPoll } = model;
  const handlers = new Set([
    ...Object.keys(fixed.lambdaInvocations),
    ...Object.keys(perPoll.lambdaInvocations),
  ]);
  const scaled = (key: Exclude<keyof Usage, 'lambdaInvocations'>): number =>
    fixed[key] + polls * perPoll[key];
  return {
    stateTransitions: scaled('stateTransitions'),
    lambdaInvocations: Object.fromEntries(
      [...handlers].map((h) => [
        h,
        (fixed.lambdaInvocations[h] ?? 0) + polls * (perPoll.lambdaInvocations[h] ?? 0),
      ]),
    ),
    dynamodbWriteUnits: scaled('dynamodbWriteUnits'),
    dynamodbReadUnits: scaled('dynamodbReadUnits'),
    s3PutClassRequests: scaled('s3PutClassRequests'),
    s3GetClassRequests: scaled('s3GetClassRequests'),
    eventBridgeEvents: scaled('eventBridgeEvents'),
    stepFunctionsLogBytes: scaled('stepFunctionsLogBytes'),
    lambdaLogBytes: scaled('lambdaLogBytes'),
    segmindRequests: scaled('segmindRequests'),
    xrayTraces: scaled('xrayTraces'),
  };
};

export interface LambdaProfile {
  memoryMb: number;
  billedMs: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  unitPriceUsd: number;
  /** How the price is usually quoted: per 1, per 1,000 or per million units. */
  quotedPer: number;
  usd: number;
}

export interface CostBreakdown {
  lines: CostLine[];
  /** Per video, excluding Segmind's own price and storage. */
  totalUsd: number;
  /** Keeping the video in S3 Standard, per month. */
  storagePerMonthUsd: number;
}

/** Prices one video's usage, line by line. */
export const workflowCost = (
  usage: Usage,
  lambdas: Readonly<Record<string, LambdaProfile>>,
  prices: AwsPrices,
  storedBytes: number,
): CostBreakdown => {
  const line = (
    item: string,
    quantity: number,
    unit: string,
    unitPriceUsd: number,
    quotedPer = 1,
  ): CostLine => ({ item, quantity, unit, unitPriceUsd, quotedPer, usd: quantity * unitPriceUsd });
  const invocations = Object.values(usage.lambdaInvocations).reduce((sum, n) => sum + n, 0);
  const gbSeconds = Object.entries(usage.lambdaInvocations).reduce((sum, [handler, n]) => {
    const profile = lambdas[handler];
    if (!profile) throw new Error(`no memory size / duration for Lambda handler ${handler}`);
    return sum + n * (profile.memoryMb / 1024) * (profile.billedMs / 1000);
  }, 0);
  const lines = [
    line(
      'Step Functions Standard state transitions',
      usage.stateTransitions,
      'transition',
      prices.stepFunctionsPerTransition,
      1000,
    ),
    line('Lambda requests', invocations, 'request', prices.lambdaPerRequest, 1e6),
    line('Lambda arm64 compute', gbSeconds, 'GB-s', prices.lambdaArmPerGbSecond),
    line(
      'DynamoDB on-demand writes (table + GSI)',
      usage.dynamodbWriteUnits,
      'WRU',
      prices.dynamodbPerWriteUnit,
      1e6,
    ),
    line('DynamoDB on-demand reads', usage.dynamodbReadUnits, 'RRU', prices.dynamodbPerReadUnit, 1e6),
    line('S3 PUT/COPY/POST requests', usage.s3PutClassRequests, 'request', prices.s3PerPutClassRequest, 1000),
    line('S3 GET/HEAD requests', usage.s3GetClassRequests, 'request', prices.s3PerGetClassRequest, 1000),
    line('EventBridge PutEvents', usage.eventBridgeEvents, 'event', prices.eventBridgePerEvent, 1e6),
    line(
      'CloudWatch Logs: Step Functions (Logging ALL + data)',
      usage.stepFunctionsLogBytes / GB,
      'GB',
      prices.cloudWatchLogsPerGbIngested,
    ),
    line('CloudWatch Logs: Lambda', usage.lambdaLogBytes / GB, 'GB', prices.cloudWatchLogsPerGbIngested),
    line(
      'X-Ray traces recorded (upper bound: every execution)',
      usage.xrayTraces,
      'trace',
      prices.xrayPerTraceRecorded,
      1e6,
    ),
  ];
  return {
    lines,
    totalUsd: lines.reduce((sum, l) => sum + l.usd, 0),
    storagePerMonthUsd: (storedBytes / GB) * prices.s3StandardPerGbMonth,
  };
};

/**
 * S3 requests store-video makes for a video of `bytes`: lib-storage sends one PutObject when the body fits
 * one part, else CreateMultipartUpload + one UploadPart per part + CompleteMultipartUpload; then one
 * CopyObject to the final key and one DeleteObject of the staged object (free).
 */
export const storeVideoS3Requests = (
  bytes: number,
  partBytes = UPLOAD_PART_BYTES,
): { putClass: number; deletes: number } => {
  const parts = Math.max(1, Math.ceil(bytes / partBytes));
  return { putClass: (parts === 1 ? 1 : parts + 2) + 1, deletes: 1 };
};

/** DynamoDB's item size: attribute names plus values (strings UTF-8, numbers ≈ 1 byte per 2 digits + 1). */
export const dynamoItemBytes = (item: Record<string, AttributeValue>): number =>
  Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);

const valueBytes = (value: AttributeValue): number => {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[-.]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + dynamoItemBytes(value.M) + Object.keys(value.M).length;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + Math.ceil(n.length / 2) + 1, 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  return 0;
};

/** Write units for one write of an item this large (1 KB each, rounded up). */
export const writeUnits = (itemBytes: number): number => Math.max(1, Math.ceil(itemBytes / 1024));
/** Read units for one strongly consistent read (4 KB each, rounded up). */
export const readUnits = (itemBytes: number): number => Math.max(1, Math.ceil(itemBytes / 4096));

// ---- Step Functions log volume, estimated from the local interpreter's event log ----

/** The part of an interpreter event this estimate reads. */
export interface StateEventLike {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  input?: unknown;
  output?: unknown;
}

const jsonBytes = (value: unknown): number =>
  value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));

/**
 * Bytes that Logging ALL with execution data writes for one interpreter event. AWS logs more history
 * events than the interpreter emits: a Task state is TaskStateEntered, TaskScheduled (its parameters, taken
 * as its input) and TaskStarted on the way in, TaskSucceeded and TaskStateExited (its output) on the way out.
 */
export const stepFunctionsLogBytes = (event: StateEventLike): number => {
  const envelope = STEP_FUNCTIONS_LOG_ENVELOPE_BYTES;
  const isTask = event.state?.type === 'Task';
  switch (event.type) {
    case 'ExecutionStarted':
      return envelope + jsonBytes(event.input);
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
      return envelope + jsonBytes(event.output);
    case 'StateEntered': {
      const input = jsonBytes(event.state?.input);
      return isTask ? 3 * envelope + 2 * input : envelope + input;
    }
    case 'StateExited': {
      const output = jsonBytes(event.state?.output);
      return isTask ? 2 * envelope + 2 * output : envelope + output;
    }
    default:
      return envelope;
  }
};

// ---- The measurement on the local stack ----

/** The part of the local stack this measurement uses (a LocalStack from #local/stack satisfies it). */
export interface OverheadStack {
  timeScale: number;
  stateMachine: { taskFunctions(): Record<string, string> };
  emulator?: {
    prepareVideos(shapes: Array<{ resolution: '2k'; duration: 8; generateAudio: boolean }>): Promise<void>;
  };
  dynamo: { jobsTable: string };
  runJob(
    request: { prompt: string },
    options: { jobId: string; onEvent?: (event: StateEventLike) => void },
  ): Promise<{ job: OverheadJobRecord; stats?: OverheadJobStats }>;
}

interface OverheadJobRecord {
  status: string;
  pollCount?: number;
  submittedAt?: string;
  processingAt?: string;
  storingAt?: string;
  completedAt?: string;
  video?: { bytes: number };
  metrics?: { cost?: number; totalTime?: number };
}

interface OverheadJobStats {
  stateTransitions: number;
  statesEntered: Record<string, number>;
  lambdaInvocationsByFunction: Record<string, number>;
  serviceCalls: Record<string, number>;
  retries: number;
  dynamodbWrites: number;
  dynamodbRequests: Record<string, number>;
  s3Requests: Record<string, number>;
  segmindRequests?: Partial<Record<string, number>>;
}

export interface MeasuredJob {
  status: string;
  polls: number;
  stateTransitions: number;
  retries: number;
  statesEntered: Record<string, number>;
  lambdaInvocations: Record<string, number>;
  /** Local in-process durations per handler (ms): no Internet round trips, so far below AWS. */
  localLambdaMs: Record<string, number[]>;
  dynamodbWrites: number;
  dynamodbRequests: Record<string, number>;
  itemBytes: number;
  statusChanges: number;
  s3Requests: Record<string, number>;
  segmindRequests: Partial<Record<string, number>>;
  videoBytes: number;
  serviceCalls: Record<string, number>;
  stepFunctionsLogBytes: { fixed: number; poll: number };
  lambdaAppLogBytes: Record<string, number>;
  segmindCostUsd?: number;
}

export interface OverheadMeasurementOptions {
  jobId: string;
  /** Reads the finished job's item (for its size); the caller owns the DynamoDB client. */
  readItem: (jobId: string) => Promise<Record<string, AttributeValue> | undefined>;
  /** Handler names (`poll-status`) by local function name: see handlersByFunction. */
  handlersByFunction: Readonly<Record<string, string>>;
  /**
   * Installs (or, with undefined, removes) a sink for the bytes the handlers write to stdout; the bytes
   * written while a Task runs are its Lambda's application logs. The caller sets the log level.
   */
  countLogBytes?: (sink: ((bytes: number) => void) | undefined) => void;
}

/** Runs one default job (2k, 8 s, audio, no image) alone and counts everything it cost. */
export const measureDefaultJob = async (
  stack: OverheadStack,
  options: OverheadMeasurementOptions,
): Promise<MeasuredJob> => {
  await stack.emulator?.prepareVideos([{ resolution: '2k', duration: 8, generateAudio: true }]);
  const taskFunctions = stack.stateMachine.taskFunctions();
  const handlerOfState = (state: string): string | undefined => {
    const fn = taskFunctions[state];
    return fn === undefined ? undefined : (options.handlersByFunction[fn] ?? fn);
  };
  const localLambdaMs: Record<string, number[]> = {};
  const appLogBytes: Record<string, number> = {};
  const sfnLogBytes = { fixed: 0, poll: 0 };
  let running: { handler: string; since: number } | undefined;

  options.countLogBytes?.((bytes) => {
    if (running) appLogBytes[running.handler] = (appLogBytes[running.handler] ?? 0) + bytes;
  });

  let run: Awaited<ReturnType<OverheadStack['runJob']>>;
  try {
    run = await stack.runJob(
      { prompt: 'A lighthouse on a cliff at dusk, waves breaking below, slow aerial orbit' },
      {
        jobId: options.jobId,
        onEvent: (event) => {
          const name = event.state?.name;
          const bytes = stepFunctionsLogBytes(event);
          if (name !== undefined && POLL_STATES.has(name)) sfnLogBytes.poll += bytes;
          else sfnLogBytes.fixed += bytes;
          const handler = name === undefined ? undefined : handlerOfState(name);
          if (handler === undefined) return;
          if (event.type === 'StateEntered') running = { handler, since: event.timestamp };
          else if ((event.type === 'StateExited' || event.type === 'StateFailed') && running) {
            localLambdaMs[handler] = [...(localLambdaMs[handler] ?? []), event.timestamp - running.since];
            running = undefined;
          }
        },
      },
    );
  } finally {
    options.countLogBytes?.(undefined);
  }
  const { job, stats } = run;
  if (!stats) throw new Error(`job ${options.jobId} did not start`);
  const item = await options.readItem(options.jobId);
  const lambdaInvocations: Record<string, number> = {};
  for (const [fn, count] of Object.entries(stats.lambdaInvocationsByFunction)) {
    const handler = options.handlersByFunction[fn] ?? fn;
    lambdaInvocations[handler] = (lambdaInvocations[handler] ?? 0) + count;
  }
  return {
    status: job.status,
    polls: stats.statesEntered.PollStatus ?? 0,
    stateTransitions: stats.stateTransitions,
    retries: stats.retries,
    statesEntered: stats.statesEntered,
    lambdaInvocations,
    localLambdaMs,
    dynamodbWrites: stats.dynamodbWrites,
    dynamodbRequests: stats.dynamodbRequests,
    itemBytes: item ? dynamoItemBytes(item) : 0,
    // PENDING → QUEUED → PROCESSING → STORING → COMPLETED: each change moves the item in the byStatus index.
    statusChanges: [job.submittedAt, job.processingAt, job.storingAt, job.completedAt].filter(
      (at) => at !== undefined,
    ).length,
    s3Requests: stats.s3Requests,
    segmindRequests: stats.segmindRequests ?? {},
    videoBytes: job.video?.bytes ?? 0,
    serviceCalls: stats.serviceCalls,
    stepFunctionsLogBytes: sfnLogBytes,
    lambdaAppLogBytes: appLogBytes,
    ...(job.metrics?.cost === undefined ? {} : { segmindCostUsd: job.metrics.cost }),
  };
};

/** Handler names (`poll-status`) by local function name, from the synthesized functions' entries. */
export const handlersByFunction = (functions: ReadonlyArray<{ name: string; entry: string }>) =>
  Object.fromEntries(functions.map((fn) => [fn.name, basename(fn.entry).replace(/\.[cm]?[jt]s$/, '')]));

/**
 * Splits the measured job into what every video costs once and what each status poll adds. A poll writes
 * DynamoDB only when Segmind's status changes, which the fixed part already counts.
 */
export const usageModelOf = (
  measured: MeasuredJob,
  referenceVideoBytes = REFERENCE_VIDEO_BYTES,
): UsageModel => {
  const polls = Math.max(1, measured.polls);
  const pollTransitions = Object.entries(measured.statesEntered)
    .filter(([state]) => POLL_STATES.has(state))
    .reduce((sum, [, n]) => sum + n, 0);
  const pollInvocations = measured.lambdaInvocations['poll-status'] ?? 0;
  const writeUnitsEach = writeUnits(measured.itemBytes);
  const gsiWrites = measured.dynamodbWrites + measured.statusChanges;
  const appLogs = (handler: string): number => measured.lambdaAppLogBytes[handler] ?? 0;
  const fixedInvocations = Object.fromEntries(
    Object.entries(measured.lambdaInvocations)
      .filter(([handler]) => handler !== 'poll-status')
      .map(([handler, n]) => [handler, n]),
  );
  const fixedLambdaLogs = Object.entries(fixedInvocations).reduce(
    (sum, [handler, n]) => sum + appLogs(handler) + n * LAMBDA_PLATFORM_LOG_BYTES,
    0,
  );
  const s3 = storeVideoS3Requests(referenceVideoBytes);
  const reads = (measured.dynamodbRequests.GetItem ?? 0) + (measured.dynamodbRequests.Query ?? 0);
  return {
    fixed: {
      ...emptyUsage(),
      stateTransitions: measured.stateTransitions - pollTransitions,
      lambdaInvocations: fixedInvocations,
      dynamodbWriteUnits: (measured.dynamodbWrites + gsiWrites) * writeUnitsEach,
      dynamodbReadUnits: reads * readUnits(measured.itemBytes),
      s3PutClassRequests: s3.putClass,
      eventBridgeEvents: measured.serviceCalls['events:putEvents'] ?? 0,
      stepFunctionsLogBytes: measured.stepFunctionsLogBytes.fixed,
      lambdaLogBytes: fixedLambdaLogs,
      segmindRequests: (measured.segmindRequests.submit ?? 0) + (measured.segmindRequests.result ?? 0),
      xrayTraces: 1,
    },
    perPoll: {
      ...emptyUsage(),
      stateTransitions: pollTransitions / polls,
      lambdaInvocations: { 'poll-status': pollInvocations / polls },
      stepFunctionsLogBytes: measured.stepFunctionsLogBytes.poll / polls,
      lambdaLogBytes: (appLogs('poll-status') + pollInvocations * LAMBDA_PLATFORM_LOG_BYTES) / polls,
      segmindRequests: (measured.segmindRequests.status ?? 0) / polls,
    },
  };
};

/** Rounds a usage for the report. */
export const roundedUsage = (usage: Usage): Usage => ({
  ...usage,
  stateTransitions: round(usage.stateTransitions, 1),
  lambdaInvocations: Object.fromEntries(
    Object.entries(usage.lambdaInvocations).map(([h, n]) => [h, round(n, 1)]),
  ),
  stepFunctionsLogBytes: Math.round(usage.stepFunctionsLogBytes),
  lambdaLogBytes: Math.round(usage.lambdaLogBytes),
  segmindRequests: round(usage.segmindRequests, 1),
});

// ---- The report: the measured job, our typical job, and the SDK's cadence as a state machine ----

export interface OverheadScenario {
  name: string;
  polls: number;
  usage: Usage;
  cost: CostBreakdown;
}

export interface WorkflowOverheadResult {
  measured: MeasuredJob;
  model: UsageModel;
  lambdas: Record<string, LambdaProfile & { localMedianMs?: number }>;
  prices: AwsPrices;
  referenceVideoBytes: number;
  scenarios: OverheadScenario[];
  targets: {
    perPollTransitions: number;
    fixedTransitions: number;
    met: boolean;
  };
  segmind: { metricsCostUsd?: number; priceRangeUsd: readonly [number, number] };
  assumptions: string[];
}

export const PER_POLL_TRANSITIONS_TARGET = 3;
export const FIXED_TRANSITIONS_TARGET = 7;

export interface OverheadReportOptions {
  /** Lambda memory sizes by handler (from the template). */
  memoryMb: Readonly<Record<string, number>>;
  prices: AwsPrices;
  /** Our policy's median polls for the default job (from the polling simulation). */
  typicalPolls: number;
  /** Polls of the SDK's 2 s cadence written as Wait(2 s) → PollStatus → Choice, median for the default job. */
  twoSecondLoopPolls: number;
  segmindPriceRangeUsd: readonly [number, number];
  referenceVideoBytes?: number;
}

const middle = (values: readonly number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1];
};

export const workflowOverheadReport = (
  measured: MeasuredJob,
  options: OverheadReportOptions,
): WorkflowOverheadResult => {
  const referenceVideoBytes = options.referenceVideoBytes ?? REFERENCE_VIDEO_BYTES;
  const model = usageModelOf(measured, referenceVideoBytes);
  const lambdas: WorkflowOverheadResult['lambdas'] = {};
  for (const handler of Object.keys(ASSUMED_BILLED_MS)) {
    const memoryMb = options.memoryMb[handler];
    const billedMs = ASSUMED_BILLED_MS[handler];
    if (memoryMb === undefined || billedMs === undefined) continue;
    const local = middle(measured.localLambdaMs[handler] ?? []);
    lambdas[handler] = { memoryMb, billedMs, ...(local === undefined ? {} : { localMedianMs: local }) };
  }
  const scenario = (name: string, polls: number): OverheadScenario => {
    const usage = usageAt(model, polls);
    return {
      name,
      polls,
      usage: roundedUsage(usage),
      cost: workflowCost(usage, lambdas, options.prices, referenceVideoBytes),
    };
  };
  const perPollTransitions = model.perPoll.stateTransitions;
  const fixedTransitions = model.fixed.stateTransitions;
  return {
    measured,
    model: { fixed: roundedUsage(model.fixed), perPoll: roundedUsage(model.perPoll) },
    lambdas,
    prices: options.prices,
    referenceVideoBytes,
    scenarios: [
      scenario(`this job (${measured.polls} polls)`, measured.polls),
      scenario(`typical default job (${options.typicalPolls} polls)`, options.typicalPolls),
      scenario(
        `SDK 2 s loop as a state machine (${options.twoSecondLoopPolls} polls)`,
        options.twoSecondLoopPolls,
      ),
    ],
    targets: {
      perPollTransitions: round(perPollTransitions, 2),
      fixedTransitions: round(fixedTransitions, 2),
      met: perPollTransitions <= PER_POLL_TRANSITIONS_TARGET && fixedTransitions <= FIXED_TRANSITIONS_TARGET,
    },
    segmind: {
      ...(measured.segmindCostUsd === undefined ? {} : { metricsCostUsd: measured.segmindCostUsd }),
      priceRangeUsd: options.segmindPriceRangeUsd,
    },
    assumptions: [
      `prices: ${options.prices.region}, ${options.prices.asOf}, on-demand list prices, no free tier (bench/pricing.ts)`,
      `Lambda billed durations are ASSUMED for AWS (${Object.entries(ASSUMED_BILLED_MS)
        .map(([h, ms]) => `${h} ${ms} ms`)
        .join(', ')}), not measured there; the local in-process medians (no Internet) were ${
        Object.entries(lambdas)
          .flatMap(([h, p]) => (p.localMedianMs === undefined ? [] : [`${h} ${p.localMedianMs} ms`]))
          .join(', ') || 'not measured'
      }`,
      `the video is priced at ${(referenceVideoBytes / 1e6).toFixed(1)} MB (Segmind's example file): ` +
        `${storeVideoS3Requests(referenceVideoBytes).putClass} S3 PUT-class requests (multipart in ` +
        `${UPLOAD_PART_BYTES / 1024 / 1024} MiB parts + CopyObject); the emulator's test video is ` +
        `${(measured.videoBytes / 1e6).toFixed(2)} MB and took ${measured.s3Requests.PUT ?? 0} PUTs here`,
      `DynamoDB: ${measured.dynamodbWrites} writes of a ${measured.itemBytes}-byte item, each also written to ` +
        `the byStatus index (projection ALL), plus ${measured.statusChanges} status changes that move it there`,
      `CloudWatch Logs: Step Functions volume estimated from the local execution's data (5 log records per Task, ` +
        `2 per other state, ${STEP_FUNCTIONS_LOG_ENVELOPE_BYTES} B envelope each); Lambda: the handlers' INFO ` +
        `logs measured here + ${LAMBDA_PLATFORM_LOG_BYTES} B of START/END/REPORT per invocation`,
      'X-Ray counted as one trace per execution (an upper bound: default sampling records fewer); Secrets ' +
        'Manager: the key is cached per container, so ~0 calls per video ($0.40 per secret-month is fixed)',
      'not per video: PITR and table storage (a ~1 KB item), S3 access-log objects, KMS for the AWS-managed ' +
        'DynamoDB key (DynamoDB caches it), the Secrets Manager secret-month',
    ],
  };
};
