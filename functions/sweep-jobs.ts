// SweepJobs: run on a schedule (EventBridge), finds jobs no execution is driving — never started, or left
// open by an execution that died — and sets them going again from their record (see #domain/sweep-jobs).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createJobQuery } from '#adapters/job-query';
import { createJobStore } from '#adapters/job-store';
import { createVideoWorkflow } from '#adapters/workflow-starter';
import { jobsConfig, sweepConfig } from '#commons/config';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { type SweepJobsPorts, type SweepReport, sweepJobs } from '#domain/sweep-jobs';

jobsConfig();
const { graceSeconds } = sweepConfig();

let ports: SweepJobsPorts | undefined;
const dependencies = (): SweepJobsPorts => {
  ports ??= {
    query: createJobQuery(),
    jobs: createJobStore(),
    executions: createVideoWorkflow(),
    now: () => new Date(),
  };
  return ports;
};

export const handler = lambdaHandler(async (): Promise<SweepReport> => {
  let failures = 0;
  const report = await sweepJobs(dependencies(), { graceSeconds }, (jobId, error) => {
    failures += 1;
    logger.error('Could not sweep a job; the next sweep tries again', { jobId, error });
  });
  for (const job of report.jobs) {
    // Each of these is a job something let go of: worth a look even when the sweep fixed it.
    logger.warn('Swept a job no execution was driving', { ...job });
  }
  metrics.addMetric('JobsSwept', MetricUnit.Count, report.jobs.length);
  if (failures > 0) metrics.addMetric('JobSweepFailures', MetricUnit.Count, failures);
  return report;
});
