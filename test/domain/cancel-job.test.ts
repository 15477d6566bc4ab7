import { describe, expect, it } from 'vitest';
import {
  CANCEL_REASON,
  type CancelOutcome,
  cancelJob,
  JobAlreadyEndedError,
  type JobCanceller,
  type JobEndedPublisher,
  JobNotFoundError,
} from '#domain/cancel-job';
import type { VideoWorkflow } from '#domain/start-job';
import type { VideoJob } from '#domain/video-job';
import { pendingJob } from '#test/support/workflow-fakes';

const NOW = new Date('2030-01-01T12:00:00.000Z');

const setup = (
  outcome: CancelOutcome,
  stop: VideoWorkflow['stop'] = async () => 'stopped',
  publish: (job: VideoJob) => Promise<void> = async () => {},
) => {
  const announced: string[] = [];
  const events: JobEndedPublisher = {
    jobEnded: async (job) => {
      announced.push(job.jobId);
      await publish(job);
    },
  };
  const cancels: { jobId: string; at: Date; reason: string }[] = [];
  const stops: { jobId: string; reason: { error: string; cause: string } }[] = [];
  const jobs: JobCanceller = {
    cancel: async (jobId, at, reason) => {
      cancels.push({ jobId, at, reason });
      return outcome;
    },
  };
  const workflow: Pick<VideoWorkflow, 'stop'> = {
    stop: async (jobId, reason) => {
      stops.push({ jobId, reason });
      return stop(jobId, reason);
    },
  };
  return { cancels, stops, announced, ports: { jobs, workflow, events, now: () => NOW } };
};

describe('cancelJob', () => {
  it('marks the record first, then stops the execution of that job', async () => {
    const cancelled = pendingJob('job-1', { status: 'CANCELLED' });
    const { cancels, stops, announced, ports } = setup({ kind: 'cancelled', job: cancelled });

    const result = await cancelJob(ports, 'job-1');

    expect(result).toEqual({ job: cancelled, execution: 'stopped' });
    expect(cancels).toEqual([{ jobId: 'job-1', at: NOW, reason: CANCEL_REASON }]);
    expect(stops).toEqual([{ jobId: 'job-1', reason: { error: 'JobCancelledError', cause: CANCEL_REASON } }]);
    // A stopped execution publishes nothing itself: the cancel announces the job's end, once.
    expect(announced).toEqual(['job-1']);
  });

  it('keeps the job cancelled when its end cannot be announced, and says so', async () => {
    const job = pendingJob('job-1', { status: 'CANCELLED' });
    const refused = new Error('EventBridge did not accept the end of job job-1: InternalFailure');
    const { ports } = setup({ kind: 'cancelled', job }, undefined, async () => {
      throw refused;
    });

    expect(await cancelJob(ports, 'job-1')).toEqual({ job, execution: 'stopped', eventError: refused });
  });

  it('refuses a job that already ended, naming its status, and stops nothing', async () => {
    const { stops, announced, ports } = setup({
      kind: 'already-ended',
      status: 'COMPLETED',
      job: pendingJob('job-1', { status: 'COMPLETED' }),
    });

    const error = await cancelJob(ports, 'job-1').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(JobAlreadyEndedError);
    expect((error as JobAlreadyEndedError).status).toBe('COMPLETED');
    expect(stops).toEqual([]);
    expect(announced).toEqual([]);
  });

  it('reports a job that does not exist', async () => {
    const { stops, ports } = setup({ kind: 'missing' });
    await expect(cancelJob(ports, 'nope')).rejects.toBeInstanceOf(JobNotFoundError);
    expect(stops).toEqual([]);
  });

  it('still reports the job cancelled when the execution had not started or cannot be stopped', async () => {
    const job = pendingJob('job-1', { status: 'CANCELLED' });
    const notRunning = setup({ kind: 'cancelled', job }, async () => 'not-running');
    expect((await cancelJob(notRunning.ports, 'job-1')).execution).toBe('not-running');

    const boom = new Error('throttled');
    const failing = setup({ kind: 'cancelled', job }, async () => {
      throw boom;
    });
    expect(await cancelJob(failing.ports, 'job-1')).toEqual({
      job,
      execution: 'stop-failed',
      stopError: boom,
    });
  });
});
