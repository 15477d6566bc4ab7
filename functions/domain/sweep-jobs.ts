// The sweeper: finds jobs that no execution is driving any more and sets them going again, so that no job
// stays open for ever. Two ways a job gets there: the entry point died between the record's PutItem and
// StartExecution (PENDING, no execution), or its execution died without ending it (a local runner killed
// mid-job, a status-change event the reconciler never got). Either way the job's own workflow finishes it:
// a new execution runs Submit, which never POSTs twice — it carries on from the stored Segmind request id
// (`already-submitted`), POSTs once if nothing was ever sent, or ends the job SUBMIT_OUTCOME_UNKNOWN when a
// POST may have gone out unanswered. A job resumed `maxResumes` times without ending is ended FAILED.

import type { JobStore } from '#domain/job-store';
import type { JobQuery } from '#domain/list-jobs';
import { isTerminal, type JobStatus, type VideoJob, type VideoJobInput } from '#domain/video-job';

/** What Step Functions says about an execution; MISSING when none of that name exists. */
export type ExecutionState = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'MISSING';

export interface WorkflowExecutions {
  state(executionName: string): Promise<ExecutionState>;
  /** StartExecution under that name; `already-started` when one of that name exists. */
  start(input: VideoJobInput, options: { executionName: string }): Promise<'started' | 'already-started'>;
}

/** The record's side of a resume: one conditional write, so two sweepers never both start one. */
export interface ResumeClaims {
  /**
   * Records `executionName` (and counts the resume) only if the job is still open and still names
   * `expected` (undefined: the job id). Returns the updated record, or undefined when the claim was lost.
   */
  claimResume(
    jobId: string,
    claim: { expected: string | undefined; executionName: string; resumeCount: number },
    at: Date,
  ): Promise<VideoJob | undefined>;
}

/** The slice of the job query the sweeper reads: open jobs by status. */
export type OpenJobQuery = Pick<JobQuery, 'listByStatus'>;

export interface SweepJobsPorts {
  query: OpenJobQuery;
  jobs: Pick<JobStore, 'recordFailure'> & ResumeClaims;
  executions: WorkflowExecutions;
  now: () => Date;
}

export interface SweepOptions {
  /** A job touched more recently than this is left alone: its execution may be starting right now. */
  graceSeconds: number;
  /** @default 3 */
  maxResumes?: number;
  /** Stops after this many jobs looked at (a bounded Lambda run; the next sweep goes on). @default 1000 */
  maxJobs?: number;
}

export type SweepAction =
  /** An execution is driving the job: nothing to do. */
  | 'running'
  /** Updated within the grace period: left for now. */
  | 'recent'
  /** No execution of the job's name existed: started one. */
  | 'started'
  /** Its execution had ended without ending the job: a new execution carries on from the record. */
  | 'resumed'
  /** Resumed too often without ending: ended FAILED. */
  | 'abandoned'
  /** Another writer got there first (the job ended, or another sweeper resumed it). */
  | 'lost-race';

export interface SweptJob {
  jobId: string;
  status: JobStatus;
  action: SweepAction;
  executionName?: string;
  /** The execution state seen, when one was looked up. */
  execution?: ExecutionState;
}

export interface SweepReport {
  examined: number;
  jobs: SweptJob[];
}

/** The statuses a job can be open in. */
export const OPEN_STATUSES = [
  'PENDING',
  'QUEUED',
  'PROCESSING',
  'STORING',
] as const satisfies readonly JobStatus[];

export const DEFAULT_MAX_RESUMES = 3;
export const JOB_ABANDONED = 'JobAbandonedError';

const PAGE_SIZE = 100;
/** Step Functions' limit on an execution name. */
const MAX_EXECUTION_NAME = 80;

/** `<jobId>-r<n>`, the job id shortened if needed so that the name fits in 80 characters. */
export const resumeExecutionName = (jobId: string, resume: number): string => {
  const suffix = `-r${resume}`;
  return `${jobId.slice(0, MAX_EXECUTION_NAME - suffix.length)}${suffix}`;
};

const lastTouched = (job: VideoJob): number => Date.parse(job.updatedAt || job.createdAt);

async function* openJobs(query: OpenJobQuery): AsyncGenerator<VideoJob> {
  for (const status of OPEN_STATUSES) {
    let startKey: Awaited<ReturnType<JobQuery['listByStatus']>>['lastKey'];
    do {
      const page = await query.listByStatus(status, {
        limit: PAGE_SIZE,
        ...(startKey === undefined ? {} : { startKey }),
      });
      yield* page.jobs;
      startKey = page.lastKey;
    } while (startKey !== undefined);
  }
}

const sweepOne = async (
  job: VideoJob,
  ports: SweepJobsPorts,
  options: Required<Pick<SweepOptions, 'graceSeconds' | 'maxResumes'>>,
): Promise<SweptJob> => {
  const seen = { jobId: job.jobId, status: job.status };
  const now = ports.now();
  if (isTerminal(job.status)) return { ...seen, action: 'lost-race' };
  if (now.getTime() - lastTouched(job) < options.graceSeconds * 1000) return { ...seen, action: 'recent' };

  const executionName = job.executionName ?? job.jobId;
  const execution = await ports.executions.state(executionName);
  const input: VideoJobInput = { jobId: job.jobId, request: job.request };
  if (execution === 'RUNNING') return { ...seen, action: 'running', executionName, execution };
  if (execution === 'MISSING') {
    // Never started (or forgotten by a local runner that stopped): the name is free, start it.
    const started = await ports.executions.start(input, { executionName });
    return { ...seen, action: started === 'started' ? 'started' : 'running', executionName, execution };
  }

  // The execution ended and left the job open: a new one, under a new name (names are never reused).
  const resumes = job.resumeCount ?? 0;
  if (resumes >= options.maxResumes) {
    const ended = await ports.jobs.recordFailure(
      job.jobId,
      {
        status: 'FAILED',
        errorCode: JOB_ABANDONED,
        errorMessage:
          `The workflow stopped ${resumes + 1} times without ending the job (last execution ${executionName} ` +
          `${execution}); given up` +
          (job.segmindRequestId === undefined ? '' : `. Segmind request ${job.segmindRequestId}`),
      },
      now,
    );
    const abandoned = ended?.status === 'FAILED' && ended.errorCode === JOB_ABANDONED;
    return { ...seen, action: abandoned ? 'abandoned' : 'lost-race', executionName, execution };
  }
  const next = resumeExecutionName(job.jobId, resumes + 1);
  const claimed = await ports.jobs.claimResume(
    job.jobId,
    { expected: job.executionName, executionName: next, resumeCount: resumes + 1 },
    now,
  );
  if (claimed === undefined) return { ...seen, action: 'lost-race', executionName, execution };
  await ports.executions.start(input, { executionName: next });
  return { ...seen, action: 'resumed', executionName: next, execution };
};

/** One pass over the open jobs. Errors on one job are reported and do not stop the others. */
export const sweepJobs = async (
  ports: SweepJobsPorts,
  options: SweepOptions,
  onError: (jobId: string, error: unknown) => void = () => undefined,
): Promise<SweepReport> => {
  const settings = {
    graceSeconds: options.graceSeconds,
    maxResumes: options.maxResumes ?? DEFAULT_MAX_RESUMES,
  };
  const maxJobs = options.maxJobs ?? 1000;
  const jobs: SweptJob[] = [];
  let examined = 0;
  for await (const job of openJobs(ports.query)) {
    if (examined >= maxJobs) break;
    examined += 1;
    try {
      const swept = await sweepOne(job, ports, settings);
      if (swept.action !== 'recent' && swept.action !== 'running') jobs.push(swept);
    } catch (error) {
      onError(job.jobId, error);
    }
  }
  return { examined, jobs };
};
