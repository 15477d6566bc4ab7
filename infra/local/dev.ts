// `npm run dev -- [--port N] [--time-scale F] [--seed S] [-c key=value]`: the whole local stack, kept
// running — local S3 and DynamoDB, the Segmind emulator (or Segmind with SEGMIND_API_KEY), the synthesized
// state machine — and the entry points as services on top of it: the REST API, the uploads watcher and the
// batch scheduler. Ctrl+C stops it all cleanly.
import '#local/polyfills';
import { isAbsolute, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ENV } from '#commons/env';
import { TERMINAL_STATUSES } from '#domain/video-job';
import { CONTROL_PREFIX } from '#emulator/control';
import type { LocalApi } from '#local/api-server';
import {
  CLOCK_OPTIONS,
  type ClockOptions,
  localStackOptions,
  parseClockOptions,
  parseOrUsageError,
  runCommand,
  UsageError,
  usesSegmind,
} from '#local/cli';
import { schedulerDevService } from '#local/scheduler';
import type { LocalStack } from '#local/stack';
import { uploadsDevService } from '#local/uploads-watcher';

export const DEFAULT_PORT = 3000;

const USAGE = `Usage: npm run dev -- [options]

Options:
  --port <n>              port of the local API on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
  --time-scale <factor>   run the emulator's clock faster, e.g. 20 (emulator only; default 1)
  --seed <integer>        seed the emulator's latency draws
  --api-key <key>         require this API key as x-api-key (repeatable, or LTX_API_KEYS=k1,k2); each key
                          is a caller of its own and sees only its own jobs, as with -c apiAuth=api-key on AWS
  -c, --context <k>=<v>   CDK context for the app the stack runs, as \`cdk deploy -c\` takes it (repeatable),
                          e.g. -c batchSchedule="cron(0/15 * * * ? *)" -c batchTimeZone=Europe/Paris
  -h, --help

Without SEGMIND_API_KEY the local Segmind emulator makes the videos (test patterns); with it, Segmind does.
Local S3 objects, job records and events.jsonl are kept in .local/ (or LTX_LOCAL_DATA_DIR).`;

export interface DevOptions extends ClockOptions {
  port: number;
  /** Keys the API asks for (x-api-key); none = no credentials, one local user who sees every job. */
  apiKeys: string[];
  /** `-c key=value`: CDK context the app is synthesized with (the schedule of batches, for one). */
  context: Record<string, string>;
}

/** What a service gets to start with: the running stack, the command line, and the console. */
export interface DevContext {
  stack: LocalStack;
  options: DevOptions;
  /** One line to the console, prefixed with the time. */
  log: (line: string) => void;
}

export interface RunningDevService {
  /** Banner lines saying where the service is, e.g. `API        http://127.0.0.1:3000/v1`. */
  endpoints: string[];
  /** Banner lines, after all endpoints: how to use it (a ready-to-paste session). */
  usage?: string[];
  stop(): Promise<void>;
}

/**
 * One entry point on top of the local stack. `npm run dev` starts them in order and stops them in
 * reverse. To add one (the uploads watcher, the batch scheduler), export an object of this shape from its
 * own module (`import type { DevService } from '#local/dev'` is erased at run time) and list it in
 * DEV_SERVICES below. Load handler modules inside start(), not at the top of that module: they read the
 * environment the stack sets when they load.
 */
export interface DevService {
  name: string;
  start(context: DevContext): Promise<RunningDevService>;
}

/** The REST API on 127.0.0.1, with the same handlers as the Lambdas and the local workflow. */
export const apiService: DevService = {
  name: 'api',
  async start({ stack, options, log }) {
    const { localApiHandlers, startLocalApi } = await import('#local/api-server');
    const handlers = await localApiHandlers({ workflow: stack.workflow, events: stack.events });
    // Loaded only now: the handler modules configure their logger from the environment the stack set.
    const { parseCorsOrigins } = await import('#functions/api/http');
    let api: LocalApi;
    try {
      api = await startLocalApi({
        handlers,
        port: options.port,
        corsAllowOrigins: parseCorsOrigins(process.env[ENV.corsAllowOrigins]),
        apiKeys: options.apiKeys,
        onRequest: (entry) =>
          log(
            `${entry.method} ${entry.path} ${entry.status} ${entry.durationMs} ms  (request ${entry.requestId})`,
          ),
        onIntegrationError: (error, { requestId }) =>
          log(
            `request ${requestId} failed in its handler: ${error instanceof Error ? error.stack : String(error)}`,
          ),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new UsageError(`port: ${options.port} is in use; pass --port <n> (0 picks a free one)`);
      }
      throw error;
    }
    return {
      endpoints: [
        options.apiKeys.length === 0
          ? `API        ${api.url}   (no credentials: it listens on 127.0.0.1 only)`
          : `API        ${api.url}   (send x-api-key: one of the ${options.apiKeys.length} keys given; each sees only its own jobs)`,
      ],
      usage: curlSession(api.url, options.apiKeys.length > 0),
      stop: () => api.stop(),
    };
  },
};

/** Started in this order, stopped in reverse. */
export const DEV_SERVICES: readonly DevService[] = [apiService, uploadsDevService, schedulerDevService];

const curlSession = (api: string, withKey: boolean): string[] => {
  const terminal = TERMINAL_STATUSES.map((status) => `"${status}"`).join(',');
  const session = [
    '',
    'Try it (curl and jq):',
    `  API=${api}`,
    `  JOB=$(curl -s -X POST "$API/videos" -H 'Content-Type: application/json' -H "Idempotency-Key: fox-1" \\`,
    `        -d '{"prompt":"a red fox running through snow","resolution":"1080p","duration":6}' | jq -r .jobId)`,
    `  until curl -s "$API/videos/$JOB" | jq -e '.status | IN(${terminal})' >/dev/null; do sleep 2; done`,
    `  curl -s "$API/videos/$JOB" | jq .`,
    `  curl -s -o "$JOB.mp4" "$(curl -s "$API/videos/$JOB" | jq -r .links.video.url)"`,
    `  curl -s "$API/videos?status=COMPLETED&limit=5" | jq .`,
    `  curl -s -X DELETE "$API/videos/$JOB"      # cancel a job that is still running`,
  ];
  return withKey
    ? [
        ...session.slice(0, 3),
        '  # the API asks for a key: add -H "x-api-key: <one of your keys>" to each curl',
        ...session.slice(3),
      ]
    : session;
};

const parseCommand = (argv: string[]): DevOptions | 'help' => {
  const { values } = parseOrUsageError(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'api-key': { type: 'string', multiple: true },
        ...CLOCK_OPTIONS,
        context: { type: 'string', short: 'c', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return 'help';
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError('port: must be a whole number from 0 to 65535');
  }
  const clock = parseClockOptions(values, 20);
  const context: Record<string, string> = {};
  for (const entry of values.context ?? []) {
    const [key = '', ...value] = entry.split('=');
    if (key.trim() === '' || value.length === 0) {
      throw new UsageError(`context: expected key=value, got ${entry}`);
    }
    context[key.trim()] = value.join('=');
  }
  const apiKeys = [...(values['api-key'] ?? []), ...(process.env[ENV.localApiKeys] ?? '').split(',')].map(
    (key) => key.trim(),
  );
  const badKey = apiKeys.find((key) => key !== '' && !/^[\x21-\x7E]{8,128}$/.test(key));
  if (badKey !== undefined) {
    throw new UsageError('api-key: a key must be 8 to 128 visible ASCII characters');
  }
  return { port, apiKeys: [...new Set(apiKeys.filter((key) => key !== ''))], ...clock, context };
};

/** Relative to the working directory when inside it, else absolute. */
const displayPath = (path: string): string => {
  const shown = relative(process.cwd(), path);
  return shown === '' || shown.startsWith('..') || isAbsolute(shown) ? path : shown;
};

const log = (line: string): void => {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
};

/**
 * Ends the jobs whose executions the shutdown is about to abort: a job record must always end terminal,
 * and no execution will come back for these (the data directory outlives this process). The record goes
 * first, as a cancel does, so whatever reacts to the aborted execution finds the job already ended.
 */
const failInterruptedJobs = async (stack: LocalStack): Promise<void> => {
  const running = stack.workflow.list().filter((execution) => execution.status === 'RUNNING');
  await Promise.all(
    running.map((execution) =>
      stack.jobs
        .recordFailure(
          execution.name,
          {
            status: 'FAILED',
            errorCode: 'LocalStackStopped',
            errorMessage: 'The local stack was stopped while this job ran',
          },
          new Date(),
        )
        .catch(() => undefined),
    ),
  );
  await stack.workflow.stopAll();
};

const main = async (argv: string[]): Promise<number> => {
  const options = parseCommand(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  usesSegmind(options.timeScale); // throws when --time-scale is given with Segmind
  if (Object.keys(options.context).length > 0) {
    // Where the CDK CLI puts `-c` for the app: buildApp reads it on top of cdk.json, so the local stack runs
    // the very app `cdk deploy -c …` would deploy.
    const inherited: unknown = JSON.parse(process.env.CDK_CONTEXT_JSON || '{}');
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ ...(inherited as object), ...options.context });
  }
  // Loaded after the command line is checked: synthesizing the app takes a few seconds.
  const { startLocalStack } = await import('#local/stack');
  const stack = await startLocalStack(localStackOptions(options));

  // Every VideoJob execution, whichever entry point started it, is reported when it ends.
  stack.workflow.watch({
    onEnded: (outcome) => {
      void stack.jobs.get(outcome.name).then(
        (job) => {
          const detail =
            job?.status === 'COMPLETED' && job.video
              ? `${job.video.bytes} bytes at s3://${job.video.bucket}/${job.video.key}`
              : (job?.errorMessage ?? '');
          log(`job ${outcome.name} ${job?.status ?? outcome.status} ${detail}`.trimEnd());
        },
        () => undefined,
      );
    },
  });

  const running: { name: string; service: RunningDevService }[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      for (const { service } of running.splice(0).reverse()) await service.stop().catch(() => undefined);
      await failInterruptedJobs(stack).catch(() => undefined);
      await stack.stop();
    })();
    return stopping;
  };

  try {
    for (const service of DEV_SERVICES) {
      running.push({ name: service.name, service: await service.start({ stack, options, log }) });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const emulator = stack.emulator;
  console.log(
    [
      `Local stack ready${stack.segmind.emulated ? `, time scale ${stack.timeScale}` : ''}:`,
      ...running.flatMap(({ service }) => service.endpoints),
      emulator
        ? `Emulator   ${emulator.url}   (Segmind stand-in; control API under ${emulator.url}${CONTROL_PREFIX})`
        : `Segmind    ${stack.segmind.baseUrl}   (SEGMIND_API_KEY is set: jobs are billed)`,
      `S3         ${stack.s3.endpoint}   (videos: ${stack.s3.videosBucket}, uploads: ${stack.s3.uploadsBucket})`,
      `DynamoDB   ${stack.dynamo.endpoint}   (jobs table: ${stack.dynamo.jobsTable})`,
      `Data       ${displayPath(stack.dataDir)}`,
      ...running.flatMap(({ service }) => service.usage ?? []),
      '',
      'Press Ctrl+C to stop.',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log(`${signal}: stopping the local stack`);
      // A second Ctrl+C does not wait for a clean stop.
      process.once('SIGINT', () => process.exit(130));
      void stopAll().finally(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return 0;
};

runCommand(main, USAGE);
