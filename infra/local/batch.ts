// `npm run batch -- prompts.jsonl [options]`: a whole batch on this machine. Uploads the manifest to local
// S3 and runs the synthesized batch state machine on the local stack (see #local/batch-runner), printing
// each line as its job ends and then the summary it wrote to batches/<batchId>/summary.json.
import '#local/polyfills';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BATCH_ID_PATTERN } from '#domain/batch-manifest';
import type { BatchSummary } from '#domain/batch-summary';
import type { BatchRunEvent } from '#local/batch-runner';
import {
  CLOCK_OPTIONS,
  type ClockOptions,
  localStackOptions,
  parseClockOptions,
  parseOrUsageError,
  runCommand,
  segmindBanner,
  UsageError,
  usesSegmind,
} from '#local/cli';

const USAGE = `Usage: npm run batch -- <prompts.jsonl> [options]

A manifest is JSON Lines: one request per line, e.g.
  {"prompt": "a red fox running through snow", "duration": 6, "resolution": "1080p"}
Invalid lines are reported in the summary and do not stop the batch.

Options:
  --concurrency <n>      child jobs in flight at once (default: the batch state machine's MaxConcurrency,
                         sized to Segmind's rate limit)
  --batch-id <id>        run this batch (1-64 of A-Z a-z 0-9 _ -); running a batch again finishes what is
                         left and starts no job twice (default: a new id)
  --time-scale <factor>  run the emulator's clock faster, e.g. 50 (emulator only; default 1)
  --seed <integer>       seed the emulator's latency draws
  -h, --help

Without SEGMIND_API_KEY the local Segmind emulator makes the videos (test patterns); with it, Segmind does.
Local S3 objects, job and batch records are kept in .local/ (or LTX_LOCAL_DATA_DIR).`;

// Exit codes: 0 every line COMPLETED, 1 some line did not (or the run failed), 2 the command line is wrong.

interface Command extends ClockOptions {
  manifestPath: string;
  concurrency?: number;
  batchId?: string;
}

const parseCommand = (argv: string[]): Command | 'help' => {
  const { values, positionals } = parseOrUsageError(() => parseWith(argv));
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError('give exactly one manifest file (JSON Lines)');
  const manifestPath = resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0] ?? '');
  if (!existsSync(manifestPath) || !statSync(manifestPath).isFile()) {
    throw new UsageError(`manifest: no such file ${positionals[0]}`);
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new UsageError('concurrency: must be a positive integer');
  }
  const batchId = values['batch-id'];
  if (batchId !== undefined && !BATCH_ID_PATTERN.test(batchId)) {
    throw new UsageError('batch-id: 1-64 of A-Z a-z 0-9 _ -');
  }
  return {
    manifestPath,
    ...parseClockOptions(values, 50),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(batchId === undefined ? {} : { batchId }),
  };
};

const parseWith = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      concurrency: { type: 'string' },
      'batch-id': { type: 'string' },
      ...CLOCK_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1).padStart(6)}s`;

const progressLine = (event: BatchRunEvent, elapsedMs: number, runnable: number): string | undefined => {
  switch (event.type) {
    case 'prepared': {
      const { batch } = event;
      return (
        `Batch ${batch.batchId}: ${batch.lineCount} lines, ${batch.runnable} to run, ${batch.rejected} invalid ` +
        `(manifest s3://${batch.manifest.bucket}/${batch.manifest.key})`
      );
    }
    case 'line-ended': {
      const outcome = event.ranBefore ? `${event.status} (ran before, not run again)` : event.status;
      return (
        `[${seconds(elapsedMs)}] line ${String(event.line).padEnd(5)} ${event.jobId.padEnd(30)} ${outcome.padEnd(10)} ` +
        `${event.ended}/${runnable} ended, ${event.running} running`
      );
    }
    default:
      return undefined;
  }
};

const printSummary = (summary: BatchSummary, location: string): void => {
  const counts = Object.entries(summary.counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  console.log(`\nBatch ${summary.batchId} ${summary.status}: ${summary.lineCount} lines — ${counts}`);
  for (const failure of summary.failures) {
    console.log(
      `  line ${failure.line}: ${failure.status}${failure.errorCode ? ` ${failure.errorCode}` : ''} — ` +
        `${failure.reason ?? ''}`,
    );
  }
  console.log(`Summary: ${location}`);
};

const main = async (argv: string[]): Promise<number> => {
  const command = parseCommand(argv);
  if (command === 'help') {
    console.log(USAGE);
    return 0;
  }
  console.log(segmindBanner(usesSegmind(command.timeScale), command.timeScale));
  // Loaded only now: the stack pulls in the CDK app, which a usage error or --help need not wait for.
  const [{ startLocalStack }, { requestShapes, runLocalBatch }] = await Promise.all([
    import('#local/stack'),
    import('#local/batch-runner'),
  ]);
  const stack = await startLocalStack(localStackOptions(command));
  const abort = new AbortController();
  const interrupted = () => {
    console.error('\nInterrupted: stopping the batch and the local stack');
    abort.abort();
  };
  process.once('SIGINT', interrupted);
  try {
    const lines = readFileSync(command.manifestPath, 'utf8').split(/\r?\n/);
    // At a high time scale the first job of each shape would otherwise wait for ffmpeg.
    await stack.emulator?.prepareVideos(requestShapes(lines));
    const started = Date.now();
    let runnable = 0;
    const run = await runLocalBatch(stack, {
      manifestPath: command.manifestPath,
      ...(command.batchId === undefined ? {} : { batchId: command.batchId }),
      ...(command.concurrency === undefined ? {} : { concurrency: command.concurrency }),
      signal: abort.signal,
      onEvent: (event) => {
        if (event.type === 'prepared') runnable = event.batch.runnable;
        const line = progressLine(event, Date.now() - started, runnable);
        if (line !== undefined) console.log(line);
      },
    });
    console.log(
      `Took ${seconds(run.stats.durationMs).trim()}: ${run.stats.childrenStarted} jobs started, ` +
        `${run.stats.childrenExisting} ran before, at most ${run.stats.maxRunningChildren} at once ` +
        `(limit ${run.stats.maxConcurrency})`,
    );
    if (run.summary && run.summaryLocation) {
      printSummary(run.summary, `s3://${run.summaryLocation.bucket}/${run.summaryLocation.key} (local S3)`);
    }
    if (run.status !== 'SUCCEEDED') {
      console.error(
        `\nBatch ${run.batchId} ended ${run.status}: ${run.error ?? ''} ${run.cause ?? ''}`.trimEnd(),
      );
      return 1;
    }
    return run.summary?.status === 'COMPLETED' ? 0 : 1;
  } finally {
    process.off('SIGINT', interrupted);
    await stack.stop();
  }
};

runCommand(main, USAGE);
