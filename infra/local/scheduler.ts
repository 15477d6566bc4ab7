// Scheduled batches on the local stack. The schedule is the one the CDK app synthesizes — the
// AWS::Scheduler::Schedule's expression, time zone, state and target input, read from the template the stack
// runs, never configured a second time — evaluated by #local/cron and, when due, turned into a batch run by
// the synthesized batch state machine (#local/batch-runner), named after the scheduled time as on AWS.
// `npm run dev` adds a dev-only control route on its own loopback port to start a batch now: a second
// terminal with curl, as for the API, rather than stdin, which would stop `npm run dev &` (a background job
// that reads the terminal gets SIGTTIN) and swallow what is typed or pasted there.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { DEFAULT_SWEEP_GRACE_SECONDS } from '#commons/config';
import { BatchInputError, batchIdFrom, MANIFESTS_PREFIX, type S3Location } from '#domain/batch-manifest';
import type { PreparedBatch } from '#domain/batch-run';
import type { BatchSummary } from '#domain/batch-summary';
import { resolveIntrinsics } from '#infra/definition';
import type { BatchRunEvent, LocalBatchOptions, LocalBatchRun } from '#local/batch-runner';
import {
  formatWallTime,
  parseSchedule,
  type ScheduleEvaluator,
  ScheduleExpressionError,
  wallTimeOf,
} from '#local/cron';
import type { DevService } from '#local/dev';
import type { ExecutionStatus } from '#local/state-machine';
import { type LocalSweeper, startLocalSweeper, sweepPeriodMs } from '#local/sweeper';
import { type CfnTemplate, LOCAL_ACCOUNT, LOCAL_REGION, resourcesOfType } from '#local/template';

/** An AWS::Scheduler::Schedule of the template that starts the batch state machine. */
export interface BatchSchedule {
  /** The schedule's logical id. */
  id: string;
  /** As in the template, e.g. `cron(0 9 * * ? *)`. */
  expression: string;
  /** @default 'UTC' (Scheduler's) */
  timeZone: string;
  enabled: boolean;
  /** The target's input, intrinsics resolved to local names, Scheduler's context attributes still in it. */
  input: string;
}

/** The schedules in the template whose target is the given state machine (by logical id). */
export const batchSchedulesOf = (template: CfnTemplate, stateMachineId: string): BatchSchedule[] =>
  resourcesOfType(template, 'AWS::Scheduler::Schedule').flatMap(([id, resource]) => {
    const props = resource.Properties ?? {};
    const target = props.Target as { Arn?: unknown; Input?: unknown } | undefined;
    const arn = target?.Arn as { Ref?: unknown } | undefined;
    if (arn?.Ref !== stateMachineId || typeof props.ScheduleExpression !== 'string') return [];
    const input = target?.Input === undefined ? '{}' : resolveIntrinsics(target.Input, template);
    return [
      {
        id,
        expression: props.ScheduleExpression,
        timeZone:
          typeof props.ScheduleExpressionTimezone === 'string' ? props.ScheduleExpressionTimezone : 'UTC',
        enabled: props.State !== 'DISABLED',
        input: typeof input === 'string' ? input : JSON.stringify(input),
      },
    ];
  });

/** `2026-01-05T09:00:00Z`: Scheduler's `<aws.scheduler.scheduled-time>` (whole seconds). */
export const scheduledTimeOf = (at: Date): string => `${at.toISOString().slice(0, 19)}Z`;

/** The target input Scheduler sends for a run at `at`: its context attributes filled in. */
export const targetInputAt = (schedule: BatchSchedule, at: Date): unknown => {
  const attributes: Record<string, string> = {
    '<aws.scheduler.scheduled-time>': scheduledTimeOf(at),
    '<aws.scheduler.execution-id>': randomUUID(),
    '<aws.scheduler.attempt-number>': '1',
    '<aws.scheduler.schedule-arn>': `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/default/${schedule.id}`,
  };
  return JSON.parse(schedule.input.replace(/<aws\.scheduler\.[a-z-]+>/g, (name) => attributes[name] ?? name));
};

/** The batch state machine's input, as far as the scheduler reads it. */
const batchInputSchema = z.object({
  batchId: z.string().optional(),
  manifest: z.object({ bucket: z.string(), key: z.string() }),
});

// ---- errors a trigger can end in (the control route maps them to statuses) ----

export class ManifestNotFoundError extends Error {
  override readonly name = 'ManifestNotFoundError';
}

export class BatchAlreadyRunningError extends Error {
  override readonly name = 'BatchAlreadyRunningError';
}

// ---- the scheduler ----

/** Time as the scheduler sees it; tests pass their own and move it forward. */
export interface SchedulerClock {
  now(): Date;
  /** Calls back once, `ms` from now; the returned function cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

export const SYSTEM_CLOCK: SchedulerClock = {
  now: () => new Date(),
  setTimer: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/**
 * The longest the scheduler sleeps before looking at the clock again: timers do not count the time a laptop
 * is suspended, and the wall clock may be changed.
 */
export const MAX_SLEEP_MS = 60_000;

export type BatchRunStatus = 'RUNNING' | ExecutionStatus;

export interface ScheduledBatch {
  batchId: string;
  trigger: 'schedule' | 'manual';
  /** The schedule's time for this run, or when it was triggered by hand; the batch id is made from it. */
  scheduledTime: string;
  manifest: S3Location;
  status: BatchRunStatus;
  /** Once prepared: lines in the manifest, and how many run or were rejected. */
  prepared?: Pick<PreparedBatch, 'lineCount' | 'runnable' | 'rejected'>;
  summary?: BatchSummary;
  summaryLocation?: S3Location;
  error?: string;
}

export interface TriggerRequest {
  /** A manifest under `manifests/` in the videos bucket. @default the schedule's (or the default key) */
  manifestKey?: string;
  /** Run (or run again) this batch. @default from the trigger time, as a scheduled run is named */
  batchId?: string;
}

export interface LocalScheduler {
  /** The batch schedule of the template, if it has one. */
  readonly schedule?: BatchSchedule;
  /** Why the schedule does not run here (disabled, or an expression the evaluator refuses). */
  readonly inactive?: string;
  /** When the schedule runs next, if it runs. */
  nextRun(): Date | undefined;
  /** Starts a batch now; resolves once it has started (the manifest was read), not when it ends. */
  trigger(request?: TriggerRequest): Promise<ScheduledBatch>;
  runs(): ScheduledBatch[];
  run(batchId: string): ScheduledBatch | undefined;
  /** Resolves once every batch started so far has ended. */
  idle(): Promise<void>;
  /** Stops the schedule and aborts the batches still running. */
  stop(): Promise<void>;
}

export interface LocalSchedulerOptions {
  /** Runs a batch: runLocalBatch on the stack, in `npm run dev`. */
  runBatch: (options: LocalBatchOptions & { lines: readonly string[] }) => Promise<LocalBatchRun>;
  /** The batch state machine's logical id in the template (see batchStateMachineOf). */
  batchStateMachineId: string;
  /** The manifest a manual trigger reads when the app has no schedule and the request names none. */
  defaultManifestKey: string;
  /** @default the system clock */
  clock?: SchedulerClock;
  /** One line per thing that happened (a batch started, prepared, ended, failed to start). */
  log?: (line: string) => void;
}

type SchedulerStack = { template: CfnTemplate; s3: { client: S3Client; videosBucket: string } };

const isMissing = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'NoSuchKey' ||
    error.name === 'NotFound' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

/** The manifest's lines as runLocalBatch takes them: the file's bytes again once it joins them with `\n`. */
const linesOf = (text: string): string[] => {
  if (text === '') return [];
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
};

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs the template's batch schedule (if any) and starts batches on request. Call it once the local stack
 * runs: batches use its handlers, which read their configuration when they load.
 */
export const startLocalScheduler = (
  stack: SchedulerStack,
  options: LocalSchedulerOptions,
): LocalScheduler => {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const log = options.log ?? (() => undefined);
  const schedules = batchSchedulesOf(stack.template, options.batchStateMachineId);
  if (schedules.length > 1) {
    throw new Error(`the app has ${schedules.length} batch schedules; the local scheduler runs one`);
  }
  const [schedule] = schedules;

  let evaluator: ScheduleEvaluator | undefined;
  let inactive: string | undefined;
  if (schedule && !schedule.enabled) {
    inactive = `the schedule ${schedule.expression} is disabled`;
  } else if (schedule) {
    try {
      evaluator = parseSchedule(schedule.expression, { timeZone: schedule.timeZone, start: clock.now() });
    } catch (error) {
      if (!(error instanceof ScheduleExpressionError)) throw error;
      inactive = `the schedule cannot run locally: ${error.message}`;
    }
  }

  const runs = new Map<string, { batch: ScheduledBatch; ended: Promise<void>; abort: AbortController }>();
  let stopped = false;
  let due = evaluator?.next(clock.now());
  let cancelTimer: (() => void) | undefined;

  const readManifest = async (location: S3Location): Promise<string> => {
    try {
      const { Body } = await stack.s3.client.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
      );
      return Body ? await Body.transformToString('utf8') : '';
    } catch (error) {
      if (!isMissing(error)) throw error;
      throw new ManifestNotFoundError(
        `no manifest at s3://${location.bucket}/${location.key}: put a JSON Lines file there first (one ` +
          'request per line)',
      );
    }
  };

  const follow = (batch: ScheduledBatch) => (event: BatchRunEvent) => {
    if (event.type !== 'prepared') return;
    const { lineCount, runnable, rejected } = event.batch;
    batch.prepared = { lineCount, runnable, rejected };
    log(`batch ${batch.batchId}: ${lineCount} lines, ${runnable} to run, ${rejected} invalid`);
  };

  const start = async (trigger: ScheduledBatch['trigger'], at: Date, request: TriggerRequest) => {
    if (stopped) throw new Error('the scheduler is stopped');
    const input = batchInputSchema.parse(
      schedule
        ? targetInputAt(schedule, at)
        : {
            batchId: scheduledTimeOf(at),
            manifest: { bucket: stack.s3.videosBucket, key: options.defaultManifestKey },
          },
    );
    const manifest: S3Location =
      request.manifestKey === undefined
        ? input.manifest
        : { bucket: stack.s3.videosBucket, key: request.manifestKey };
    if (!manifest.key.startsWith(MANIFESTS_PREFIX) || manifest.bucket !== stack.s3.videosBucket) {
      throw new BatchInputError(
        `the manifest must be under ${MANIFESTS_PREFIX} in the videos bucket ${stack.s3.videosBucket}, ` +
          `got s3://${manifest.bucket}/${manifest.key}`,
      );
    }
    // The same id PrepareBatch derives on AWS: the scheduled time in its basic form, 20260105T090000Z.
    const batchId = batchIdFrom(request.batchId ?? input.batchId ?? scheduledTimeOf(at));
    const lines = linesOf(await readManifest(manifest));
    // Checked after the last await, so that two requests for one batch cannot both pass.
    if (runs.get(batchId)?.batch.status === 'RUNNING') {
      throw new BatchAlreadyRunningError(`batch ${batchId} is running already`);
    }

    const batch: ScheduledBatch = {
      batchId,
      trigger,
      scheduledTime: scheduledTimeOf(at),
      manifest,
      status: 'RUNNING',
    };
    const abort = new AbortController();
    log(
      `batch ${batchId} started ${trigger === 'schedule' ? `by the schedule ${schedule?.expression}` : 'by hand'} ` +
        `over s3://${manifest.bucket}/${manifest.key}`,
    );
    const ended = options.runBatch({ lines, batchId, signal: abort.signal, onEvent: follow(batch) }).then(
      (run) => {
        batch.status = run.status;
        if (run.summary) batch.summary = run.summary;
        if (run.summaryLocation) batch.summaryLocation = run.summaryLocation;
        if (run.error !== undefined) batch.error = `${run.error}: ${run.cause ?? ''}`.trim();
        const counts = Object.entries(run.summary?.counts ?? {})
          .map(([status, count]) => `${count} ${status}`)
          .join(', ');
        const where = run.summaryLocation
          ? `; summary s3://${run.summaryLocation.bucket}/${run.summaryLocation.key}`
          : '';
        log(
          `batch ${batchId} ${run.summary?.status ?? run.status}${counts ? `: ${counts}` : ''}${where}` +
            `${batch.error ? ` (${batch.error})` : ''}`,
        );
      },
      (error: unknown) => {
        batch.status = 'FAILED';
        batch.error = errorText(error);
        log(`batch ${batchId} FAILED: ${batch.error}`);
      },
    );
    runs.set(batchId, { batch, ended, abort });
    return { ...batch };
  };

  const fire = (at: Date): void => {
    start('schedule', at, {}).catch((error: unknown) =>
      log(`the scheduled batch of ${scheduledTimeOf(at)} did not start: ${errorText(error)}`),
    );
  };

  const tick = (): void => {
    cancelTimer = undefined;
    if (stopped || evaluator === undefined || due === undefined) return;
    const now = clock.now();
    if (now.getTime() >= due.getTime()) {
      const at = due;
      // After a sleep of the machine, the first missed run starts, late; the others are not made up.
      due = evaluator.next(now);
      fire(at);
    }
    if (due !== undefined) {
      cancelTimer = clock.setTimer(tick, Math.min(Math.max(due.getTime() - now.getTime(), 0), MAX_SLEEP_MS));
    }
  };
  tick();

  return {
    ...(schedule === undefined ? {} : { schedule }),
    ...(inactive === undefined ? {} : { inactive }),
    nextRun: () => due,
    trigger: (request = {}) => start('manual', clock.now(), request),
    runs: () => [...runs.values()].map(({ batch }) => ({ ...batch })),
    run: (batchId) => {
      const entry = runs.get(batchId);
      return entry && { ...entry.batch };
    },
    idle: async () => {
      await Promise.all([...runs.values()].map(({ ended }) => ended));
    },
    stop: async () => {
      stopped = true;
      cancelTimer?.();
      for (const { abort } of runs.values()) abort.abort();
      await Promise.all([...runs.values()].map(({ ended }) => ended));
    },
  };
};

/** A run of the schedule, in its zone and in UTC: `2026-01-06 09:00 Europe/Paris (08:00Z)`. */
export const describeRun = (at: Date, timeZone: string): string => {
  const local = `${formatWallTime(wallTimeOf(at, timeZone))} ${timeZone}`;
  return timeZone === 'UTC' ? local : `${local} (${at.toISOString().slice(11, 16)}Z)`;
};

// ---- the dev-only control route ----

const triggerSchema = z.strictObject({
  manifestKey: z.string().min(1).optional(),
  batchId: z.string().min(1).optional(),
});

const MAX_BODY_BYTES = 64 * 1024;

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BatchInputError('the request body is larger than 64 KiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const send = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(`${JSON.stringify(body, null, 2)}\n`);
};

const statusOf = (error: unknown): number => {
  if (error instanceof ManifestNotFoundError) return 404;
  if (error instanceof BatchAlreadyRunningError) return 409;
  if (error instanceof BatchInputError || error instanceof z.ZodError || error instanceof SyntaxError)
    return 400;
  return 500;
};

const scheduleView = (scheduler: LocalScheduler) => ({
  schedule: scheduler.schedule
    ? {
        expression: scheduler.schedule.expression,
        timeZone: scheduler.schedule.timeZone,
        enabled: scheduler.schedule.enabled,
        nextRun: scheduler.nextRun()?.toISOString() ?? null,
      }
    : null,
  ...(scheduler.inactive === undefined ? {} : { inactive: scheduler.inactive }),
});

export interface SchedulerControl {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * The scheduler's control route, dev only, on 127.0.0.1: `POST /batches` starts a batch now (body, optional:
 * `{"manifestKey": "manifests/…", "batchId": "…"}`), `GET /batches[/<batchId>]` shows the runs, `GET
 * /schedule` the schedule and its next run. Not part of the product's API, and never deployed.
 */
export const startSchedulerControl = async (
  scheduler: LocalScheduler,
  { port = 0, sweeper }: { port?: number; sweeper?: Pick<LocalSweeper, 'sweepNow'> } = {},
): Promise<SchedulerControl> => {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '') || '/';
    const handle = async (): Promise<void> => {
      if (request.method === 'POST' && path === '/batches') {
        const text = await readBody(request);
        const body = triggerSchema.parse(text.trim() === '' ? {} : JSON.parse(text));
        send(response, 202, await scheduler.trigger(body));
        return;
      }
      if (request.method === 'POST' && path === '/sweep' && sweeper !== undefined) {
        // The job sweeper's run, now rather than at its next tick (as `npm run reconcile` does by hand).
        send(response, 200, await sweeper.sweepNow());
        return;
      }
      if (request.method === 'GET' && path === '/batches') return send(response, 200, scheduler.runs());
      const batchId = /^\/batches\/([^/]+)$/.exec(path)?.[1];
      if (request.method === 'GET' && batchId !== undefined) {
        const run = scheduler.run(decodeURIComponent(batchId));
        return run
          ? send(response, 200, run)
          : send(response, 404, { error: `no batch ${batchId} was started since npm run dev started` });
      }
      if (request.method === 'GET' && (path === '/schedule' || path === '/')) {
        return send(response, 200, scheduleView(scheduler));
      }
      send(response, 404, { error: 'POST /batches, GET /batches, GET /batches/<batchId> or GET /schedule' });
    };
    handle().catch((error: unknown) => {
      const status = statusOf(error);
      const message =
        error instanceof z.ZodError
          ? `expected {"manifestKey"?: "manifests/…", "batchId"?: "…"}: ${error.issues.map((issue) => issue.message).join('; ')}`
          : errorText(error);
      if (!response.headersSent) send(response, status, { error: message });
    });
  });
  server.listen(port, '127.0.0.1');
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => Promise.reject(error)),
  ]);
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

// ---- npm run dev ----

/** The control port next to the API's (3001 for 3000), or any free one when that is taken. */
const startControlNextTo = async (
  scheduler: LocalScheduler,
  apiPort: number,
  sweeper: LocalSweeper,
): Promise<SchedulerControl> => {
  const preferred = apiPort === 0 || apiPort >= 65_535 ? 0 : apiPort + 1;
  try {
    return await startSchedulerControl(scheduler, { port: preferred, sweeper });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startSchedulerControl(scheduler, { port: 0, sweeper });
  }
};

/** `npm run dev`'s scheduler: the app's batch schedule, and the control route to start a batch now. */
export const schedulerDevService: DevService = {
  name: 'scheduler',
  async start({ stack, options, log }) {
    // Loaded now: the batch runner pulls in handler modules, which read the environment the stack set.
    const [
      { batchStateMachineOf, requestShapes, runLocalBatch },
      { BATCH_CONTEXT_KEYS, DEFAULT_SCHEDULED_MANIFEST_KEY },
    ] = await Promise.all([import('#local/batch-runner'), import('#infra/constructs/video-batch')]);
    const scheduler = startLocalScheduler(stack, {
      batchStateMachineId: batchStateMachineOf(stack).name,
      defaultManifestKey: DEFAULT_SCHEDULED_MANIFEST_KEY,
      log,
      runBatch: async (batch) => {
        // As `npm run batch` does: the emulator makes each shape's video before the first job needs it.
        await stack.emulator?.prepareVideos(requestShapes(batch.lines));
        return runLocalBatch(stack, batch);
      },
    });
    // The app's job sweeper, on the app's rate (scaled like every other wait of the local stack).
    const sweeper = startLocalSweeper(stack, {
      graceSeconds: Math.ceil(DEFAULT_SWEEP_GRACE_SECONDS / stack.timeScale),
      log,
    });
    let control: SchedulerControl;
    try {
      control = await startControlNextTo(scheduler, options.port, sweeper);
    } catch (error) {
      sweeper.stop();
      await scheduler.stop();
      throw error;
    }

    const { schedule } = scheduler;
    const next = scheduler.nextRun();
    const manifestKey = schedule
      ? batchInputSchema.safeParse(targetInputAt(schedule, new Date())).data?.manifest.key
      : DEFAULT_SCHEDULED_MANIFEST_KEY;
    const K = BATCH_CONTEXT_KEYS;
    const status = schedule
      ? `${schedule.expression} in ${schedule.timeZone}, over s3://${stack.s3.videosBucket}/${manifestKey}; ` +
        (next ? `next run ${describeRun(next, schedule.timeZone)}` : (scheduler.inactive ?? 'no run to come'))
      : `no schedule configured (context ${K.schedule}); trigger with: curl -s -X POST ${control.url}/batches`;
    return {
      endpoints: [
        `Scheduler  ${status}`,
        `           control ${control.url}   (dev only, not the product API: start a batch now)`,
        `Sweeper    every ${Math.round((sweepPeriodMs(stack.template) ?? 300_000) / 1000)} s of app time; now: curl -s -X POST ${control.url}/sweep`,
      ],
      usage: [
        '',
        'Batches (a JSON Lines manifest in the local videos bucket, one request per line):',
        `  aws --endpoint-url ${stack.s3.endpoint} s3 cp prompts.jsonl s3://${stack.s3.videosBucket}/${manifestKey}`,
        `  BATCH=$(curl -s -X POST ${control.url}/batches | jq -r .batchId)   # run it now`,
        `  curl -s ${control.url}/batches/$BATCH | jq '{status, prepared, summary: .summary.counts}'`,
        `  curl -s -X POST ${control.url}/batches -d '{"manifestKey":"manifests/other.jsonl"}' | jq .`,
        `  Schedule as on AWS (same context as cdk deploy): npm run dev -- -c ${K.schedule}="cron(0/15 * * * ? *)" -c ${K.timeZone}=Europe/Paris`,
      ],
      stop: async () => {
        sweeper.stop();
        await control.stop();
        await scheduler.stop();
      },
    };
  },
};
