// DELETE /videos/{jobId} — cancel a job that is still running: the record becomes CANCELLED and the
// execution is stopped. A job that already ended answers 409.
import { createJobStore } from '#adapters/job-store';
import { createVideoWorkflow } from '#adapters/workflow-starter';
import { logger } from '#commons/powertools';
import { jobIdSchema, toJobView } from '#domain/api-schemas';
import { type CancelJobPorts, cancelJob } from '#domain/cancel-job';
import { type ApiRoute, apiHandler, json, parseInput, requestPathOf } from '#functions/api/http';

export const cancelVideoRoute =
  (ports: CancelJobPorts): ApiRoute =>
  async (event) => {
    const jobId = parseInput(jobIdSchema, event.pathParameters?.jobId, {
      whole: 'jobId',
      keyKind: 'path parameter',
      knownKeys: [],
    });
    const { job, execution, stopError } = await cancelJob(ports, jobId);
    if (execution === 'stop-failed') {
      // The job is cancelled all the same: the workflow reads the record and discards any late result.
      logger.warn('Job cancelled, but its execution could not be stopped', { jobId, error: stopError });
    }
    return json(200, toJobView(job, { self: requestPathOf(event) }));
  };

export const handler = apiHandler(
  cancelVideoRoute({ jobs: createJobStore(), workflow: createVideoWorkflow(), now: () => new Date() }),
);
