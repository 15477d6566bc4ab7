// The sweeper's decisions, one job at a time, against the in-memory job store and a scripted set of
// executions: what it starts, what it resumes under which name, what it leaves, and when it gives up.
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobPage } from '#domain/list-jobs';
import {
  type ExecutionState,
  JOB_ABANDONED,
  type OpenJobQuery,
  resumeExecutionName,
  type SweepJobsPorts,
  sweepJobs,
  type WorkflowExecutions,
} from '#domain/sweep-jobs';
import type { JobStatus, VideoJob, VideoJobInput } from '#domain/video-job';
import { InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

const NOW = new Date('2030-01-01T01:00:00.000Z');
const LONG_AGO = '2030-01-01T00:00:00.000Z';

class SweepableStore extends InMemoryJobStore {
  async claimResume(
    jobId: string,
    claim: { expected: string | undefined; executionName: string; resumeCount: number },
    at: Date,
  ): Promise<VideoJob | undefined> {
    const job = this.peek(jobId);
    if (
      job === undefined ||
      ['COMPLETED', 'FAILED', 'EXPIRED', 'TIMED_OUT', 'CANCELLED'].includes(job.status)
    )
      return undefined;
    if (job.executionName !== claim.expected) return undefined;
    const next = {
      ...job,
      executionName: claim.executionName,
      resumeCount: claim.resumeCount,
      updatedAt: at.toISOString(),
    };
    this.put(next);
    return next;
  }
}

const queryOver = (store: InMemoryJobStore): OpenJobQuery => ({
  listByStatus: async (status: JobStatus): Promise<JobPage> => ({
    jobs: [...store.items.values()].filter((job) => job.status === status),
  }),
});

class ScriptedExecutions implements WorkflowExecutions {
  readonly states = new Map<string, ExecutionState>();
  readonly started: { input: VideoJobInput; executionName: string }[] = [];
  async state(name: string): Promise<ExecutionState> {
    return this.states.get(name) ?? 'MISSING';
  }
  async start(input: VideoJobInput, options: { executionName: string }) {
    if (this.states.has(options.executionName)) return 'already-started' as const;
    this.states.set(options.executionName, 'RUNNING');
    this.started.push({ input, executionName: options.executionName });
    return 'started' as const;
  }
}

let store: SweepableStore;
let executions: ScriptedExecutions;
let ports: SweepJobsPorts;

beforeEach(() => {
  store = new SweepableStore();
  executions = new ScriptedExecutions();
  ports = { query: queryOver(store), jobs: store, executions, now: () => NOW };
});

const open = (jobId: string, overrides: Partial<VideoJob> = {}) =>
  store.put(pendingJob(jobId, { createdAt: LONG_AGO, updatedAt: LONG_AGO, ...overrides }));

describe('sweepJobs', () => {
  it('starts a PENDING job that has no execution, under its own name, with its stored request', async () => {
    open('job-1');
    const report = await sweepJobs(ports, { graceSeconds: 300 });
    expect(report.jobs).toEqual([
      { jobId: 'job-1', status: 'PENDING', action: 'started', executionName: 'job-1', execution: 'MISSING' },
    ]);
    expect(executions.started).toEqual([
      { input: { jobId: 'job-1', request: store.peek('job-1')?.request }, executionName: 'job-1' },
    ]);
  });

  it('leaves a job touched within the grace period, and a job whose execution runs', async () => {
    open('fresh', { updatedAt: new Date(NOW.getTime() - 60_000).toISOString() });
    open('busy', { status: 'PROCESSING' });
    executions.states.set('busy', 'RUNNING');
    const report = await sweepJobs(ports, { graceSeconds: 300 });
    expect(report).toEqual({ examined: 2, jobs: [] });
    expect(executions.started).toEqual([]);
  });

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED', 'SUCCEEDED'] as const)(
    'resumes an open job whose execution ended %s, under a new name claimed on the record',
    async (state) => {
      open('job-1', { status: 'QUEUED', segmindRequestId: 'req-1' });
      executions.states.set('job-1', state);
      const report = await sweepJobs(ports, { graceSeconds: 300 });
      expect(report.jobs).toEqual([
        { jobId: 'job-1', status: 'QUEUED', action: 'resumed', executionName: 'job-1-r1', execution: state },
      ]);
      expect(store.peek('job-1')).toMatchObject({
        executionName: 'job-1-r1',
        resumeCount: 1,
        status: 'QUEUED',
      });
      expect(executions.started.map((s) => s.executionName)).toEqual(['job-1-r1']);
    },
  );

  it('follows the recorded execution name: a resumed job that died again gets -r2', async () => {
    open('job-1', { status: 'PROCESSING', executionName: 'job-1-r1', resumeCount: 1 });
    executions.states.set('job-1', 'FAILED');
    executions.states.set('job-1-r1', 'FAILED');
    await sweepJobs(ports, { graceSeconds: 0 });
    expect(store.peek('job-1')).toMatchObject({ executionName: 'job-1-r2', resumeCount: 2 });
  });

  it('never resumes a job twice when another sweeper claimed it first', async () => {
    open('job-1', { status: 'QUEUED' });
    executions.states.set('job-1', 'FAILED');
    const stale = store.peek('job-1');
    await sweepJobs(ports, { graceSeconds: 0 });
    // A second sweeper that read the record before the claim: its claim fails, it starts nothing.
    store.put({ ...(store.peek('job-1') as VideoJob) });
    const second = await sweepJobs(
      { ...ports, query: { listByStatus: async () => ({ jobs: stale ? [stale] : [] }) } },
      { graceSeconds: 0 },
    );
    expect(second.jobs.every((job) => job.action === 'lost-race')).toBe(true);
    expect(executions.started).toHaveLength(1);
  });

  it('ends FAILED a job resumed maxResumes times without ending', async () => {
    open('job-1', {
      status: 'PROCESSING',
      executionName: 'job-1-r3',
      resumeCount: 3,
      segmindRequestId: 'req-9',
    });
    executions.states.set('job-1-r3', 'FAILED');
    const report = await sweepJobs(ports, { graceSeconds: 0, maxResumes: 3 });
    expect(report.jobs).toMatchObject([{ jobId: 'job-1', action: 'abandoned' }]);
    expect(store.peek('job-1')).toMatchObject({ status: 'FAILED', errorCode: JOB_ABANDONED });
    expect(store.peek('job-1')?.errorMessage).toContain('req-9');
    expect(executions.started).toEqual([]);
  });

  it('reports a job it could not sweep and goes on with the others', async () => {
    open('bad', { status: 'QUEUED' });
    open('good');
    const broken: SweepJobsPorts = {
      ...ports,
      executions: {
        state: async (name) => {
          if (name === 'bad') throw new Error('DescribeExecution throttled');
          return 'MISSING';
        },
        start: (input, options) => executions.start(input, options),
      },
    };
    const errors: string[] = [];
    const report = await sweepJobs(broken, { graceSeconds: 0 }, (jobId) => errors.push(jobId));
    expect(errors).toEqual(['bad']);
    expect(report.jobs.map((job) => job.jobId)).toEqual(['good']);
  });

  it('names resumed executions within the 80 characters Step Functions allows', () => {
    const long = 'j'.repeat(80);
    expect(resumeExecutionName(long, 12)).toHaveLength(80);
    expect(resumeExecutionName(long, 12).endsWith('-r12')).toBe(true);
    expect(resumeExecutionName('job-1', 1)).toBe('job-1-r1');
  });
});
