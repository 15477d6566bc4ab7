// The sweeper on the local stack: the same use case as the scheduled Lambda (#domain/sweep-jobs), with
// the local stack's job table and its executions (LocalVideoWorkflow) as ports — the local runner has no
// Step Functions API for the Lambda's adapter to call. Its period is the template's schedule rule, read
// from the app the stack runs, as the batch schedule is.
import { createJobQuery } from '#adapters/job-query';
import { createJobStore } from '#adapters/job-store';
import { type SweepJobsPorts, type SweepOptions, type SweepReport, sweepJobs } from '#domain/sweep-jobs';
import { SWEEP_RULE_DESCRIPTION } from '#infra/constructs/job-sweeper';
import type { LocalStack } from '#local/stack';
import { type CfnTemplate, resourcesOfType } from '#local/template';

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
};

/** The period of the app's sweep rule (`rate(5 minutes)`), in milliseconds; undefined without one. */
export const sweepPeriodMs = (template: CfnTemplate): number | undefined => {
  const rule = resourcesOfType(template, 'AWS::Events::Rule').find(
    ([, resource]) => resource.Properties?.Description === SWEEP_RULE_DESCRIPTION,
  );
  const expression = rule?.[1].Properties?.ScheduleExpression;
  const match = typeof expression === 'string' ? /^rate\((\d+) (\w+)\)$/.exec(expression) : null;
  const unit = match?.[2] === undefined ? undefined : UNIT_MS[match[2]];
  return match?.[1] === undefined || unit === undefined ? undefined : Number(match[1]) * unit;
};

export const localSweepPorts = (stack: Pick<LocalStack, 'workflow'>): SweepJobsPorts => ({
  query: createJobQuery(),
  jobs: createJobStore(),
  executions: stack.workflow,
  now: () => new Date(),
});

/** One sweep of the local stack's jobs. */
export const sweepLocalStack = (
  stack: Pick<LocalStack, 'workflow'>,
  options: SweepOptions,
  onError?: (jobId: string, error: unknown) => void,
): Promise<SweepReport> => sweepJobs(localSweepPorts(stack), options, onError);

/** One line per job a sweep acted on. */
export const describeSweep = (report: SweepReport): string[] =>
  report.jobs.map(
    (job) =>
      `job ${job.jobId} (${job.status}): ${job.action}` +
      `${job.executionName === undefined ? '' : ` as execution ${job.executionName}`}` +
      `${job.execution === undefined ? '' : ` (execution was ${job.execution})`}`,
  );

export interface LocalSweeper {
  sweepNow(): Promise<SweepReport>;
  stop(): void;
}

/** Sweeps every `periodMs` (the template's rate, scaled by the stack's time scale) until stopped. */
export const startLocalSweeper = (
  stack: Pick<LocalStack, 'workflow' | 'template' | 'timeScale'>,
  options: SweepOptions & { log?: (line: string) => void },
): LocalSweeper => {
  const log = options.log ?? (() => undefined);
  const period = Math.max(1_000, (sweepPeriodMs(stack.template) ?? 300_000) / stack.timeScale);
  let running: Promise<SweepReport> | undefined;
  const sweepNow = (): Promise<SweepReport> => {
    running ??= sweepLocalStack(stack, options, (jobId, error) =>
      log(
        `sweep: job ${jobId} could not be swept: ${error instanceof Error ? error.message : String(error)}`,
      ),
    )
      .then((report) => {
        for (const line of describeSweep(report)) log(`sweep: ${line}`);
        return report;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    sweepNow().catch((error: unknown) => log(`sweep failed: ${String(error)}`));
  }, period);
  timer.unref();
  return { sweepNow, stop: () => clearInterval(timer) };
};
