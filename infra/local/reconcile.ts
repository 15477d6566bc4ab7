// `npm run reconcile`: one sweep of the local jobs by hand (the data in .local/, kept across runs), then
// waits for the executions it started or resumed and prints how each job ended. For jobs a stopped or
// crashed `npm run dev`/`generate` left open: never started, or their runner died mid-job.
import { parseArgs } from 'node:util';
import {
  CLOCK_OPTIONS,
  localStackOptions,
  parseClockOptions,
  parseOrUsageError,
  runCommand,
  segmindBanner,
  UsageError,
  usesSegmind,
} from '#local/cli';
import { startLocalStack } from '#local/stack';
import { describeSweep, sweepLocalStack } from '#local/sweeper';

const USAGE = `Usage: npm run reconcile -- [--grace <seconds>] [--time-scale <n>] [--seed <n>]

Finds local jobs no execution is driving — still PENDING with no execution, or left QUEUED, PROCESSING or
STORING by a runner that stopped — and starts or resumes their workflow from the job record, then waits
for them to end. A job with a Segmind request id carries on with it (never a second submit); one whose
submit may have gone out unanswered ends SUBMIT_OUTCOME_UNKNOWN.

  --grace <seconds>  leave jobs touched more recently than this (default 60)

With the emulator, a request id from an earlier run is unknown to this run's emulator: such a job ends
EXPIRED, as it would at Segmind after an hour. The data lives in .local/ (LTX_LOCAL_DATA_DIR).`;

const main = async (argv: string[]): Promise<number> => {
  const { values } = parseOrUsageError(() =>
    parseArgs({
      args: argv,
      strict: true,
      options: { grace: { type: 'string' }, ...CLOCK_OPTIONS, help: { type: 'boolean', short: 'h' } },
    }),
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const graceSeconds = values.grace === undefined ? 60 : Number(values.grace);
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0) {
    throw new UsageError('grace: must be a whole number of seconds, e.g. 60');
  }
  const clock = parseClockOptions(values, 20);
  console.log(segmindBanner(usesSegmind(clock.timeScale), clock.timeScale));
  const stack = await startLocalStack(localStackOptions(clock));
  try {
    const report = await sweepLocalStack(stack, { graceSeconds }, (jobId, error) =>
      console.error(
        `job ${jobId}: could not be swept: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
    console.log(`Looked at ${report.examined} open job(s); acted on ${report.jobs.length}.`);
    for (const line of describeSweep(report)) console.log(line);
    await stack.workflow.idle();
    let open = 0;
    for (const { jobId } of report.jobs) {
      const job = await stack.jobs.get(jobId);
      if (job === undefined) continue;
      if (!['COMPLETED', 'FAILED', 'EXPIRED', 'TIMED_OUT', 'CANCELLED'].includes(job.status)) open += 1;
      console.log(
        `job ${jobId} ended ${job.status}` +
          `${job.errorCode === undefined ? '' : `: ${job.errorCode}: ${job.errorMessage ?? ''}`}` +
          `${job.video === undefined ? '' : ` (s3://${job.video.bucket}/${job.video.key})`}`,
      );
    }
    return open === 0 ? 0 : 1;
  } finally {
    await stack.stop();
  }
};

runCommand(main, USAGE);
