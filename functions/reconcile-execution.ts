// ReconcileExecution: invoked by an EventBridge rule on "Step Functions Execution Status Change" (FAILED,
// TIMED_OUT, ABORTED) of the VideoJob state machine; ends the job if the execution stopped without ending
// it (see #domain/reconcile-execution). An unreadable event is logged and dropped — retrying cannot fix it —
// while a DynamoDB error is thrown, so Lambda retries it and finally hands the event to the dead-letter queue.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createJobStore } from '#adapters/job-store';
import { jobClockFromEnv } from '#commons/clock';
import { jobsConfig } from '#commons/config';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { isJobId } from '#domain/job-id';
import {
  isReconciledExecutionStatus,
  type ReconcileExecutionDeps,
  type ReconcileOutcome,
  reconcileExecution,
} from '#domain/reconcile-execution';

jobsConfig();
const clock = jobClockFromEnv();

/** EventBridge's envelope around Step Functions' execution details (only the fields used here). */
const eventSchema = z.looseObject({
  detail: z.looseObject({
    executionArn: z.string().min(1),
    name: z.string().min(1),
    status: z.string(),
    /** The execution input as a JSON string; null when too large to include. */
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

export type ReconcileResult = ReconcileOutcome | { kind: 'ignored'; reason: string };

/**
 * The job id: the input's `jobId` (what every state writes the record under), else the execution name,
 * which the entry points set to the job id.
 */
const jobIdOf = (name: string, input: string | null | undefined): string => {
  if (typeof input === 'string') {
    try {
      const parsed: unknown = JSON.parse(input);
      const jobId: unknown =
        typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'jobId') : undefined;
      if (typeof jobId === 'string' && isJobId(jobId)) return jobId;
    } catch {
      // A truncated or odd input: the name is the job id all the same.
    }
  }
  return name;
};

let deps: ReconcileExecutionDeps | undefined;
const dependencies = (): ReconcileExecutionDeps => {
  deps ??= { store: createJobStore(), clock };
  return deps;
};

export const handler = lambdaHandler(async (event: unknown): Promise<ReconcileResult> => {
  metrics.addMetric('StoppedExecutionEvents', MetricUnit.Count, 1);
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) {
    logger.error('Not an execution status-change event; dropped', { issues: z.prettifyError(parsed.error) });
    return { kind: 'ignored', reason: 'unreadable event' };
  }
  const { executionArn, name, status, input, error, cause } = parsed.data.detail;
  const jobId = jobIdOf(name, input);
  logger.appendKeys({ jobId, executionArn });
  if (!isReconciledExecutionStatus(status)) {
    return { kind: 'ignored', reason: `execution status ${status} leaves nothing to reconcile` };
  }
  if (!isJobId(jobId)) {
    logger.warn('The execution is not named after a job; nothing to reconcile');
    return { kind: 'ignored', reason: 'no job id' };
  }

  const outcome = await reconcileExecution(
    {
      jobId,
      status,
      ...(typeof error === 'string' ? { error } : {}),
      ...(typeof cause === 'string' ? { cause } : {}),
    },
    dependencies(),
  );
  if (outcome.kind === 'reconciled') {
    // Something upstream let a job go unfinished: worth an alarm on this metric.
    metrics.addMetric('JobsReconciled', MetricUnit.Count, 1);
    logger.warn('The execution ended without ending its job; job ended now', {
      executionStatus: status,
      ...outcome,
    });
  } else if (outcome.kind === 'left-for-sweeper') {
    logger.warn('The execution stopped while the job was STORING; left for the sweeper to finish', {
      executionStatus: status,
    });
  } else if (outcome.kind === 'missing') {
    logger.warn('No job record for the execution', { executionStatus: status });
  }
  return outcome;
});
