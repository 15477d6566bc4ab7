// DELETE /videos/{jobId} — cancel one of the caller's jobs that is still running: the record becomes CANCELLED and the
// execution is stopped. A job that already ended answers 409.
import { createJobEvents } from '#adapters/job-events';
import { createJobStore } from '#adapters/job-store';
import { createVideoWorkflow } from '#adapters/workflow-starter';
import { logger } from '#commons/powertools';
import { jobIdSchema, toJobView } from '#domain/api-schemas';
import { type CancelJobPorts, cancelJob, type JobCanceller } from '#domain/cancel-job';
import { ownedJob } from '#domain/job-owner';
import type { JobStore } from '#domain/job-store';
import { type ApiRoute, apiHandler, callerOf, json, parseInput, requestPathOf } from '#functions/api/http';

export interface CancelVideoPorts extends CancelJobPorts {
  jobs: JobCanceller & Pick<JobStore, 'get'>;
}

export const cancelVideoRoute =
  (ports: CancelVideoPorts): ApiRoute =>
  async (event) => {
    const jobId = parseInput(jobIdSchema, event.pathParameters?.jobId, {
      whole: 'jobId',
      keyKind: 'path parameter',
      knownKeys: [],
    });
    // Only the owner may cancel; another caller's job is answered as a missing one. The owner never changes,
    // so reading it before the cancel's own conditional write leaves no gap to race through.
    await ownedJob(ports.jobs, jobId, callerOf(event));
    const { job, execution, stopError, eventError } = await cancelJob(ports, jobId);
    if (execution === 'stop-failed') {
      // The job is cancelled all the same: the workflow reads the record and discards any late result.
      logger.warn('Job cancelled, but its execution could not be stopped', { jobId, error: stopError });
    }
    if (eventError !== undefined) {
      logger.warn('Job cancelled, but its end could not be announced on the event bus', {
        jobId,
        error: eventError,
      });
    }
    return json(200, toJobView(job, { self: requestPathOf(event) }));
  };

export const handler = apiHandler(
  cancelVideoRoute({
    jobs: createJobStore(),
    workflow: createVideoWorkflow(),
    events: createJobEvents(),
    now: () => new Date(),
  }),
);
