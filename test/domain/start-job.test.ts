import { describe, expect, it } from 'vitest';
import { fingerprintRequest } from '#domain/job-id';
import {
  IdempotencyKeyReusedError,
  type StartJobPorts,
  startJob,
  type VideoWorkflow,
  WorkflowStartError,
} from '#domain/start-job';
import type { VideoJobInput } from '#domain/video-job';
import type { VideoRequest } from '#domain/video-request';
import { DEFAULT_REQUEST, InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

class FakeWorkflow implements Pick<VideoWorkflow, 'start'> {
  readonly started: VideoJobInput[] = [];
  readonly names = new Set<string>();
  failWith: Error | undefined;

  async start(input: VideoJobInput): Promise<'started' | 'already-started'> {
    if (this.failWith) throw this.failWith;
    this.started.push(input);
    if (this.names.has(input.jobId)) return 'already-started';
    this.names.add(input.jobId);
    return 'started';
  }
}

const NOW = new Date('2030-01-01T12:00:00.000Z');

const setup = () => {
  const jobs = new InMemoryJobStore();
  const workflow = new FakeWorkflow();
  const ports: StartJobPorts = { jobs, workflow, now: () => NOW };
  return { jobs, workflow, ports };
};

const request: VideoRequest = { ...DEFAULT_REQUEST };

describe('startJob', () => {
  it('creates a PENDING record with the request fingerprint and starts the execution named after the job', async () => {
    const { jobs, workflow, ports } = setup();

    const result = await startJob(ports, { jobId: 'job-1', source: 'api', request });

    expect(result.created).toBe(true);
    expect(jobs.peek('job-1')).toMatchObject({
      jobId: 'job-1',
      status: 'PENDING',
      source: 'api',
      request,
      requestHash: fingerprintRequest(request),
      createdAt: NOW.toISOString(),
    });
    expect(workflow.started).toEqual([{ jobId: 'job-1', request }]);
  });

  it('keeps the batch id of a batch line', async () => {
    const { jobs, ports } = setup();
    await startJob(ports, { jobId: 'batch-b1-3', source: 'batch', request, batchId: 'b1' });
    expect(jobs.peek('batch-b1-3')?.batchId).toBe('b1');
  });

  it('returns the existing job on a repeat and starts nothing once the job has moved on', async () => {
    const { jobs, workflow, ports } = setup();
    jobs.put(pendingJob('job-1', { status: 'QUEUED', requestHash: fingerprintRequest(request) }));

    const result = await startJob(ports, {
      jobId: 'job-1',
      source: 'api',
      request,
      rejectDifferentRequest: true,
    });

    expect(result).toMatchObject({ created: false, job: { jobId: 'job-1', status: 'QUEUED' } });
    expect(workflow.started).toEqual([]);
  });

  it('starts a job left PENDING by an interrupted earlier start, with the stored request', async () => {
    const { jobs, workflow, ports } = setup();
    const stored = { ...request, prompt: 'the stored prompt' };
    jobs.put(pendingJob('upl-1', { request: stored }));

    const result = await startJob(ports, { jobId: 'upl-1', source: 'upload', request });

    expect(result.created).toBe(false);
    expect(workflow.started).toEqual([{ jobId: 'upl-1', request: stored }]);
  });

  it('refuses an Idempotency-Key reused with a different request, starting nothing', async () => {
    const { jobs, workflow, ports } = setup();
    jobs.put(pendingJob('api-1', { requestHash: fingerprintRequest(request) }));

    await expect(
      startJob(ports, {
        jobId: 'api-1',
        source: 'api',
        request: { ...request, duration: 10 },
        rejectDifferentRequest: true,
      }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(workflow.started).toEqual([]);
  });

  it('ends the job FAILED, without internal detail, when the execution cannot be started', async () => {
    const { jobs, workflow, ports } = setup();
    workflow.failWith = Object.assign(new Error('User arn:aws:sts::123456789012:x is not authorized'), {
      name: 'AccessDeniedException',
    });

    const failure = await startJob(ports, { jobId: 'job-1', source: 'api', request }).catch(
      (e: unknown) => e,
    );

    expect(failure).toBeInstanceOf(WorkflowStartError);
    expect((failure as WorkflowStartError).cause).toBe(workflow.failWith);
    const job = jobs.peek('job-1');
    expect(job).toMatchObject({ status: 'FAILED', errorCode: 'WorkflowStartError' });
    expect(job?.errorMessage).toContain('AccessDeniedException');
    expect(job?.errorMessage).not.toContain('123456789012');
  });

  it('refuses a job id that is not a valid execution name', async () => {
    const { ports } = setup();
    await expect(startJob(ports, { jobId: 'has space', source: 'api', request })).rejects.toThrow(RangeError);
  });
});
