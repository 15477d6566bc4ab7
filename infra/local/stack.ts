// The whole pipeline on one machine: local DynamoDB and S3 servers, the Segmind emulator (or the real
// Segmind when a key is given), the real handler modules, and the synthesized VideoJob state machine run
// by the local interpreter. One stack per process: the handlers read their configuration once, at load.
import '#local/polyfills';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { createJobStore } from '#adapters/job-store';
import { configureAwsClients } from '#commons/aws-clients';
import { ENV } from '#commons/env';
import { CLI_OWNER } from '#domain/job-owner';
import type { JobStore } from '#domain/job-store';
import { isReconciledExecutionStatus } from '#domain/reconcile-execution';
import { addressRange, hostKeyOfUrl } from '#domain/url-safety';
import type { JobSource, VideoJob } from '#domain/video-job';
import { type VideoRequestInput, videoRequestSchema } from '#domain/video-request';
import type { EmulatorOptions, Endpoint, RunningEmulator } from '#emulator/control';
import { RECONCILE_EXECUTION_HANDLER } from '#infra/constructs/execution-reconciler';
import { handlerEntry } from '#infra/constructs/handlers';
import { LocalEventBus } from '#local/event-bus';
import { LocalLambdaRuntime } from '#local/lambda-runtime';
import { LocalVideoWorkflow } from '#local/local-workflow';
import { type LocalServerCounters, type LocalServers, startLocalServers } from '#local/servers';
import {
  type ExecutionEvent,
  type ExecutionOutcome,
  type ExecutionStats,
  LocalStateMachine,
} from '#local/state-machine';
import { synthesizeVideoJobWorkflow } from '#local/synth';
import { type CfnTemplate, LOCAL_ACCOUNT, LOCAL_REGION } from '#local/template';

export const DEFAULT_SEGMIND_BASE_URL = 'https://api.segmind.com';
/** The bucket images for image-to-video jobs are uploaded to locally (the CLI's --image <file>). */
export const UPLOADS_BUCKET = 'local-uploads';

export interface LocalStackOptions {
  /** Emulated seconds per real second (emulator only). 1 = Segmind's real pace. @default 1 */
  timeScale?: number;
  /** Seeds the emulator's latency draws, for repeatable runs. */
  seed?: number;
  /**
   * Where the local data lives, kept across runs (S3 objects, DynamoDB items, events.jsonl) — the CLI
   * passes `.local`. @default a temporary directory, removed by stop()
   */
  dataDir?: string;
  /**
   * 'emulator', or the real (or any other) Segmind endpoint and key.
   * @default the real Segmind when SEGMIND_API_KEY is set (at SEGMIND_BASE_URL, else api.segmind.com), else the emulator
   */
  segmind?: 'emulator' | { baseUrl: string; apiKey: string };
  /** Extra emulator start-up options (credits, rate limit, latency, retention …). */
  emulatorOptions?: Omit<EmulatorOptions, 'port' | 'timeScale' | 'seed'>;
}

export interface RunJobOptions {
  /** The job id and execution name. @default a random UUID */
  jobId?: string;
  /** @default 'cli' */
  source?: JobSource;
  /** Called whenever the job record's status, poll count or Segmind status changes (and once at the end). */
  onProgress?: (progress: JobProgressUpdate) => void;
  /** Every event of the execution's log, as it happens. */
  onEvent?: (event: ExecutionEvent) => void;
}

export interface JobProgressUpdate {
  job: VideoJob;
  /** Status polls so far, from the execution's own `$.poll.pollCount` (the record is written only on change). */
  polls: number;
  /** The state the execution was in when the change was seen. */
  state: string;
  elapsedMs: number;
}

/**
 * What one job cost. Server-side figures (DynamoDB writes, Segmind and S3 requests) are the difference of
 * the servers' counters around the job: exact when jobs run one at a time.
 */
export interface JobStats extends ExecutionStats {
  /** Writes to the jobs table, including the PENDING record runJob creates. */
  dynamodbWrites: number;
  dynamodbRequests: Record<string, number>;
  s3Requests: Record<string, number>;
  /** Requests the emulator served for this job, by endpoint (emulator only). */
  segmindRequests?: Partial<Record<Endpoint | 'total', number>>;
}

export interface JobRun {
  /** The record as the execution left it. */
  job: VideoJob;
  /** False when a record with this job id existed already: nothing was started, `job` is that record. */
  started: boolean;
  execution?: ExecutionOutcome;
  stats?: JobStats;
}

export interface LocalStack {
  /** Set when the emulator stands in for Segmind. */
  emulator?: RunningEmulator;
  segmind: { baseUrl: string; emulated: boolean };
  timeScale: number;
  dataDir: string;
  s3: {
    endpoint: string;
    client: S3Client;
    videosBucket: string;
    uploadsBucket: string;
    /** s3rver's object notifications (see LocalServers); the uploads watcher listens here. */
    onEvent: LocalServers['s3']['onEvent'];
  };
  dynamo: { endpoint: string; client: DynamoDBClient; jobsTable: string };
  events: LocalEventBus;
  stateMachine: LocalStateMachine;
  /**
   * StartExecution/StopExecution of the VideoJob state machine, as the entry points' VideoWorkflow port:
   * executions run in the background, several at once, and can be stopped by job id.
   */
  workflow: LocalVideoWorkflow;
  /** The synthesized template this stack runs (the batch runner reads the batch state machine from it). */
  template: CfnTemplate;
  /** Every Lambda function of the template, run in this process (the batch runner invokes its own). */
  lambda: LocalLambdaRuntime;
  jobs: JobStore;
  counters(): LocalServerCounters;
  runJob(request: VideoRequestInput, options?: RunJobOptions): Promise<JobRun>;
  stop(): Promise<void>;
}

let started = false;

export const startLocalStack = async (options: LocalStackOptions = {}): Promise<LocalStack> => {
  if (started) {
    throw new Error(
      'startLocalStack() runs once per process: the handlers read their configuration when first loaded',
    );
  }
  started = true;
  // The project supports Node 20; the SDK's notice about its own future Node 22 floor is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const timeScale = options.timeScale ?? 1;
  if (!(Number.isFinite(timeScale) && timeScale > 0)) {
    throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  }
  const segmindChoice = options.segmind ?? segmindFromEnv();
  // An emulator started on its own (`npm run emulator -- --time-scale F`) is on loopback: the rule is about
  // the real Segmind, which runs at its own pace.
  if (segmindChoice !== 'emulator' && timeScale !== 1 && !isLoopbackOrigin(segmindChoice.baseUrl)) {
    throw new Error('A time scale other than 1 needs the emulator: the real Segmind runs at its own pace');
  }

  const ephemeral = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'ltx-local-')));
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  if (ephemeral) cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

  try {
    const workflow = synthesizeVideoJobWorkflow();
    const servers: LocalServers = await startLocalServers({
      dataDir,
      persistent: !ephemeral,
      tables: workflow.tables,
      buckets: [...workflow.buckets, UPLOADS_BUCKET],
    });
    cleanups.push(() => servers.stop());
    const s3Host = hostKeyOfUrl(servers.s3.endpoint);

    let emulator: RunningEmulator | undefined;
    let segmind: { baseUrl: string; apiKey: string };
    if (segmindChoice === 'emulator') {
      const { startEmulator } = await import('#emulator/index');
      emulator = await startEmulator({
        port: 0,
        timeScale,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        // Like Segmind, it downloads the first-frame image: here only from the local s3rver, by name.
        allowedImageHosts: [s3Host],
        ...options.emulatorOptions,
      });
      const running = emulator;
      cleanups.push(() => running.stop());
      const apiKey = emulator.apiKeys[0];
      if (apiKey === undefined) throw new Error('the emulator started without an API key');
      segmind = { baseUrl: emulator.url, apiKey };
    } else {
      segmind = segmindChoice;
    }

    // The handlers' configuration, set before the first handler module loads: the template's own
    // environment (resolved to local names), then what differs locally. The video download trusts
    // SEGMIND_BASE_URL's host by itself; image URLs may name the local s3rver, and no other local server.
    setEnvironment({
      AWS_REGION: process.env.AWS_REGION ?? LOCAL_REGION,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...workflow.environment,
      [ENV.jobsTable]: workflow.jobsTableName,
      [ENV.videosBucket]: workflow.videosBucketName,
      [ENV.segmindBaseUrl]: segmind.baseUrl,
      [ENV.segmindApiKey]: segmind.apiKey,
      [ENV.timeScale]: String(timeScale),
      [ENV.allowedImageHosts]: s3Host,
      // The local API asks for credentials only when given API keys (each then its own caller); a request
      // without any is the one local user's, who sees every job.
      [ENV.apiAuth]: 'none',
      // The request budget spends the emulator's own limit (the real Segmind's: the template's value).
      ...(emulator
        ? { [ENV.segmindRequestsPerMinute]: String(emulator.control.config().rateLimitPerMinute) }
        : {}),
    });
    delete process.env[ENV.segmindApiKeySecret];
    configureAwsClients({
      s3: servers.s3.clientConfig,
      dynamodb: servers.dynamodb.clientConfig,
      eventBridge: { region: LOCAL_REGION, credentials: servers.dynamodb.clientConfig.credentials },
      sfn: { region: LOCAL_REGION, credentials: servers.dynamodb.clientConfig.credentials },
    });

    const lambda = new LocalLambdaRuntime(workflow.functions);
    await lambda.preload();
    const dynamoClient = new DynamoDBClient(servers.dynamodb.clientConfig);
    const s3Client = new S3Client(servers.s3.clientConfig);
    cleanups.push(async () => {
      dynamoClient.destroy();
      s3Client.destroy();
    });
    const events = new LocalEventBus({
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      file: join(dataDir, 'events.jsonl'),
    });
    // The ExecutionReconciler's rule: an execution that ended FAILED, TIMED_OUT or ABORTED (a stop, a
    // Fail after RecordFailure broke) has its status change delivered to the same function as on AWS.
    const reconciler = lambda.functions.find((fn) => fn.entry === handlerEntry(RECONCILE_EXECUTION_HANDLER));
    if (reconciler === undefined) throw new Error('the synthesized app has no execution reconciler function');
    const stateMachine = new LocalStateMachine({
      definition: workflow.definition,
      name: workflow.stateMachineName,
      resources: { lambda, dynamodb: dynamoClient, events },
      timeScale,
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT,
      onStatusChange: async (event) => {
        if (isReconciledExecutionStatus(event.detail.status)) await lambda.invoke(reconciler, event);
      },
    });
    cleanups.push(async () => stateMachine.abortAll());
    const videoWorkflow = new LocalVideoWorkflow(stateMachine);
    cleanups.push(() => videoWorkflow.stopAll());
    const jobs = createJobStore();

    const runJob = async (request: VideoRequestInput, runOptions: RunJobOptions = {}): Promise<JobRun> => {
      const validated = videoRequestSchema.parse(request);
      const jobId = runOptions.jobId ?? randomUUID();
      const now = new Date().toISOString();
      const before = snapshot(servers, emulator);
      const created = await jobs.create({
        jobId,
        status: 'PENDING',
        source: runOptions.source ?? 'cli',
        owner: CLI_OWNER,
        request: validated,
        createdAt: now,
        updatedAt: now,
      });
      if (!created.created) return { job: created.job, started: false };

      const progress = runOptions.onProgress
        ? new ProgressWatcher(jobs, jobId, runOptions.onProgress)
        : undefined;
      const execution = await stateMachine.execute(
        { jobId, request: validated },
        {
          name: jobId,
          onEvent: (event) => {
            runOptions.onEvent?.(event);
            if (
              (event.type === 'StateExited' || event.type === 'StateFailed') &&
              event.state.type === 'Task'
            ) {
              progress?.check(event.state.name, pollCountOf(event.state.output));
            }
          },
        },
      );
      await progress?.finish();
      const job = await jobs.get(jobId);
      if (!job) throw new Error(`the record of job ${jobId} vanished`);
      return {
        job,
        started: true,
        execution,
        stats: jobStats(execution, before, snapshot(servers, emulator)),
      };
    };

    return {
      ...(emulator ? { emulator } : {}),
      segmind: { baseUrl: segmind.baseUrl, emulated: emulator !== undefined },
      timeScale,
      dataDir,
      s3: {
        endpoint: servers.s3.endpoint,
        client: s3Client,
        videosBucket: workflow.videosBucketName,
        uploadsBucket: UPLOADS_BUCKET,
        onEvent: servers.s3.onEvent,
      },
      dynamo: {
        endpoint: servers.dynamodb.endpoint,
        client: dynamoClient,
        jobsTable: workflow.jobsTableName,
      },
      events,
      stateMachine,
      workflow: videoWorkflow,
      template: workflow.template,
      lambda,
      jobs,
      counters: () => servers.counters(),
      runJob,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};

/** The real Segmind when SEGMIND_API_KEY is set, else the emulator. */
const isLoopbackOrigin = (url: string): boolean => {
  const { hostname } = new URL(url);
  return hostname === 'localhost' || addressRange(hostname.replace(/^\[(.*)\]$/, '$1')) === 'loopback';
};

const segmindFromEnv = (): NonNullable<LocalStackOptions['segmind']> => {
  const apiKey = process.env[ENV.segmindApiKey]?.trim();
  if (!apiKey) return 'emulator';
  return { baseUrl: process.env[ENV.segmindBaseUrl]?.trim() || DEFAULT_SEGMIND_BASE_URL, apiKey };
};

const setEnvironment = (variables: Record<string, string>): void => {
  for (const [name, value] of Object.entries(variables)) process.env[name] = value;
};

interface CounterSnapshot {
  servers: LocalServerCounters;
  segmind?: Record<string, number>;
}

const snapshot = (servers: LocalServers, emulator: RunningEmulator | undefined): CounterSnapshot => ({
  servers: servers.counters(),
  ...(emulator ? { segmind: { ...emulator.control.counters().byEndpoint } } : {}),
});

const difference = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(after)
      .map(([key, value]) => [key, value - (before[key] ?? 0)] as const)
      .filter(([, value]) => value !== 0),
  );

const jobStats = (execution: ExecutionOutcome, before: CounterSnapshot, after: CounterSnapshot): JobStats => {
  const segmind = after.segmind && before.segmind ? difference(after.segmind, before.segmind) : undefined;
  if (segmind) delete segmind.control;
  return {
    ...execution.stats,
    dynamodbWrites: after.servers.dynamodbWrites - before.servers.dynamodbWrites,
    dynamodbRequests: difference(after.servers.dynamodb, before.servers.dynamodb),
    s3Requests: difference(after.servers.s3, before.servers.s3),
    ...(segmind
      ? { segmindRequests: { ...segmind, total: Object.values(segmind).reduce((sum, n) => sum + n, 0) } }
      : {}),
  };
};

/**
 * Re-reads the job record after each state and reports it when something a user watches changed. The
 * reads are chained so updates arrive in order, and finish() waits for the last one.
 */
class ProgressWatcher {
  readonly #jobs: JobStore;
  readonly #jobId: string;
  readonly #report: (progress: JobProgressUpdate) => void;
  readonly #startedAt = Date.now();
  #chain: Promise<void> = Promise.resolve();
  #last = '';
  #polls = 0;

  constructor(jobs: JobStore, jobId: string, report: (progress: JobProgressUpdate) => void) {
    this.#jobs = jobs;
    this.#jobId = jobId;
    this.#report = report;
  }

  check(state: string, polls?: number): void {
    if (polls !== undefined) this.#polls = polls;
    const elapsedMs = Date.now() - this.#startedAt;
    const seenPolls = this.#polls;
    this.#chain = this.#chain.then(async () => {
      const job = await this.#jobs.get(this.#jobId).catch(() => undefined);
      if (!job) return;
      const shown = Math.max(seenPolls, job.pollCount ?? 0);
      const fingerprint = JSON.stringify([job.status, shown, job.lastSegmindStatus]);
      if (fingerprint === this.#last) return;
      this.#last = fingerprint;
      this.#report({ job, polls: shown, state, elapsedMs });
    });
  }

  async finish(): Promise<void> {
    this.check('(end)');
    await this.#chain;
  }
}

/** `$.poll.pollCount` of a state's output, when the output has one. */
const pollCountOf = (output: unknown): number | undefined => {
  if (typeof output !== 'object' || output === null) return undefined;
  const poll: unknown = Reflect.get(output, 'poll');
  if (typeof poll !== 'object' || poll === null) return undefined;
  const count: unknown = Reflect.get(poll, 'pollCount');
  return typeof count === 'number' ? count : undefined;
};
