// Starting a job, the same for every entry point: create the PENDING record with a conditional put, then
// start the VideoJob execution named after the job. The put makes a repeated start return the existing
// job; the execution name makes a repeated StartExecution start nothing.
import { fingerprintRequest, isJobId } from '#domain/job-id';
import type { JobStore } from '#domain/job-store';
import type { JobSource, VideoJob, VideoJobInput } from '#domain/video-job';
import type { VideoRequest } from '#domain/video-request';

/** Starts and stops VideoJob executions; the execution name is the job id. */
export interface VideoWorkflow {
  /**
   * `already-started` when an execution with this name exists (running or ended): nothing new ran. The
   * name is the job id unless `executionName` says otherwise (a job the sweeper resumes).
   */
  start(input: VideoJobInput, options?: { executionName?: string }): Promise<'started' | 'already-started'>;
  /** `not-running` when there is no execution of that name or it has already ended. */
  stop(jobId: string, reason: { error: string; cause: string }): Promise<'stopped' | 'not-running'>;
}

export interface StartJobPorts {
  jobs: Pick<JobStore, 'create' | 'recordFailure'>;
  workflow: Pick<VideoWorkflow, 'start'>;
  now: () => Date;
}

export interface StartJobCommand {
  jobId: string;
  source: JobSource;
  /** Already validated against videoRequestSchema (defaults applied). */
  request: VideoRequest;
  /** Who the job belongs to (#domain/job-owner). */
  owner?: string;
  batchId?: string;
  /**
   * When the id came from a caller's Idempotency-Key: an existing job with a different request is a
   * conflict, not an answer. Other derived ids (S3 object, manifest line) name the request themselves.
   */
  rejectDifferentRequest?: boolean;
}

export interface StartJobResult {
  job: VideoJob;
  /** False when the job already existed: this call created and started nothing new. */
  created: boolean;
}

/** The Idempotency-Key was used before with a different request. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly jobId: string;
  constructor(jobId: string) {
    super(
      `this Idempotency-Key was already used for job ${jobId} with a different request body; ` +
        'send the same body to get that job, or use a new key for a new job',
    );
    this.jobId = jobId;
  }
}

/** StartExecution failed for good. The job record has been ended as FAILED, saying so. */
export class WorkflowStartError extends Error {
  override readonly name = 'WorkflowStartError';
  readonly jobId: string;
  constructor(jobId: string, options: { cause: unknown }) {
    super(`could not start the workflow of job ${jobId}`, options);
    this.jobId = jobId;
  }
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : 'unknown error');

export const startJob = async (ports: StartJobPorts, command: StartJobCommand): Promise<StartJobResult> => {
  if (!isJobId(command.jobId)) {
    // A bug in whoever derived the id, never user input: the API validates ids before they get here.
    throw new RangeError(`not a valid job id: ${JSON.stringify(command.jobId)}`);
  }
  const at = ports.now().toISOString();
  const requestHash = fingerprintRequest(command.request);
  const draft: VideoJob = {
    jobId: command.jobId,
    status: 'PENDING',
    source: command.source,
    request: command.request,
    requestHash,
    createdAt: at,
    updatedAt: at,
    ...(command.owner === undefined ? {} : { owner: command.owner }),
    ...(command.batchId === undefined ? {} : { batchId: command.batchId }),
  };

  const { created, job } = await ports.jobs.create(draft);
  if (!created) {
    if (command.rejectDifferentRequest && job.requestHash !== undefined && job.requestHash !== requestHash) {
      throw new IdempotencyKeyReusedError(job.jobId);
    }
    // PENDING means an earlier start may have died between the put and StartExecution: start again.
    // The execution name makes this a no-op when that earlier StartExecution did go through.
    if (job.status !== 'PENDING') return { job, created: false };
  }

  try {
    // The stored request, not this call's: a repeat must hand the execution exactly the same input.
    await ports.workflow.start({ jobId: job.jobId, request: job.request });
  } catch (error) {
    // Leaving the record PENDING would strand it: nothing would ever move it to a terminal status. The
    // message names the error class only; the record is readable through the API, the detail is logged.
    const failure = {
      status: 'FAILED',
      errorCode: 'WorkflowStartError',
      errorMessage: `The workflow could not be started (${errorName(error)}); the job did not run`,
    } as const;
    const recorded = await ports.jobs.recordFailure(job.jobId, failure, ports.now()).then(
      () => undefined,
      (recordError: unknown) => recordError,
    );
    const cause =
      recorded === undefined
        ? error
        : new AggregateError([error, recorded], 'and the failure was not recorded');
    throw new WorkflowStartError(job.jobId, { cause });
  }
  return { job, created };
};
