// The sweeper on the local stack against the emulator: a job whose entry point died before StartExecution,
// and a job whose runner was killed mid-job, are each brought to COMPLETED from their record — with one
// Segmind submit per job, never two — and a submit that may have gone out unanswered ends terminal.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startJob } from '#domain/start-job';
import type { VideoJob } from '#domain/video-job';
import { videoRequestSchema } from '#domain/video-request';
import type { LocalStack } from '#local/stack';
import { sweepLocalStack } from '#local/sweeper';
import {
  describeJob,
  emulatorOf,
  readObject,
  sha256,
  startTestStack,
} from '#test/workflow/support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 100 });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.workflow.idle();
  emulatorOf(stack).control.reset();
});

const REQUEST = videoRequestSchema.parse({
  prompt: 'a fox the sweeper saves',
  resolution: '1080p',
  duration: 6,
});
let counter = 0;
const newJobId = () => `sweep-${Date.now().toString(36)}-${++counter}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The record once the job is terminal (the executions the sweep started have run). */
const settled = async (jobId: string): Promise<VideoJob> => {
  await stack.workflow.idle();
  const job = await stack.jobs.get(jobId);
  if (job === undefined) throw new Error(`no record ${jobId}`);
  return job;
};

const expectStored = async (job: VideoJob) => {
  expect(job.status, describeJob(job)).toBe('COMPLETED');
  const video = job.video;
  if (!video) throw new Error(`no video on ${describeJob(job)}`);
  expect(sha256(await readObject(stack, video.bucket, video.key))).toBe(video.sha256);
};

const waitForStatus = async (jobId: string, statuses: string[]): Promise<VideoJob> => {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const job = await stack.jobs.get(jobId);
    if (job !== undefined && statuses.includes(job.status)) return job;
    await sleep(20);
  }
  throw new Error(`job ${jobId} never reached ${statuses.join('/')}`);
};

describe('the sweeper', () => {
  it('starts a job whose entry point died between the PutItem and StartExecution', async () => {
    const jobId = newJobId();
    // What a dead API leaves: the PENDING record, no execution.
    const now = new Date().toISOString();
    await stack.jobs.create({
      jobId,
      status: 'PENDING',
      source: 'api',
      request: REQUEST,
      createdAt: now,
      updatedAt: now,
    });

    // Within the grace period it is left alone: its execution may be starting right now.
    expect((await sweepLocalStack(stack, { graceSeconds: 3600 })).jobs).toEqual([]);
    expect(stack.workflow.describe(jobId)).toBeUndefined();

    const report = await sweepLocalStack(stack, { graceSeconds: 0 });

    expect(report.jobs).toContainEqual(
      expect.objectContaining({ jobId, action: 'started', executionName: jobId, execution: 'MISSING' }),
    );
    await expectStored(await settled(jobId));
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(1);
  });

  it('finishes a job whose StartExecution failed after the record was written and the failure could not be recorded', async () => {
    const jobId = newJobId();
    // StartExecution throws, and so does the write that would have ended the job: it stays PENDING.
    const start = startJob(
      {
        jobs: {
          create: (job) => stack.jobs.create(job),
          recordFailure: async () => {
            throw new Error('DynamoDB is unavailable');
          },
        },
        workflow: {
          start: async () => {
            throw new Error('StartExecution: service unavailable');
          },
        },
        now: () => new Date(),
      },
      { jobId, source: 'api', request: REQUEST },
    );
    await expect(start).rejects.toThrow(/could not start the workflow/);
    expect((await stack.jobs.get(jobId))?.status).toBe('PENDING');

    await sweepLocalStack(stack, { graceSeconds: 0 });

    await expectStored(await settled(jobId));
  });

  it('resumes a job whose runner was killed mid-job, from its Segmind request id: one submit, COMPLETED', async () => {
    const jobId = newJobId();
    // Slow polls keep the job mid-flight long enough to kill its runner there.
    emulatorOf(stack).control.injectFault({ endpoint: 'status', kind: 'slow', delayMs: 300, count: 3 });
    const now = new Date().toISOString();
    await stack.jobs.create({
      jobId,
      status: 'PENDING',
      source: 'cli',
      request: REQUEST,
      createdAt: now,
      updatedAt: now,
    });
    await stack.workflow.start({ jobId, request: REQUEST });
    const submitted = await waitForStatus(jobId, ['QUEUED', 'PROCESSING']);
    expect(submitted.segmindRequestId).toEqual(expect.any(String));

    expect(stack.workflow.kill(jobId)).toBe(true);
    await stack.workflow.idle();
    const orphaned = await stack.jobs.get(jobId);
    expect(['QUEUED', 'PROCESSING']).toContain(orphaned?.status);

    const report = await sweepLocalStack(stack, { graceSeconds: 0 });

    expect(report.jobs).toContainEqual(
      expect.objectContaining({
        jobId,
        action: 'resumed',
        executionName: `${jobId}-r1`,
        execution: 'FAILED',
      }),
    );
    const job = await settled(jobId);
    await expectStored(job);
    expect(job).toMatchObject({
      segmindRequestId: submitted.segmindRequestId,
      executionName: `${jobId}-r1`,
      resumeCount: 1,
    });
    const counters = emulatorOf(stack).control.counters();
    expect(counters.byEndpoint.submit).toBe(1);
    expect(counters.jobsCreated).toBe(1);
  });

  it('ends SUBMIT_OUTCOME_UNKNOWN a job whose runner died mid-POST: never POSTed again', async () => {
    const jobId = newJobId();
    const now = new Date().toISOString();
    // What a runner killed during the POST leaves: the claim, no request id, no execution.
    await stack.jobs.create({
      jobId,
      status: 'PENDING',
      source: 'api',
      request: REQUEST,
      createdAt: now,
      updatedAt: now,
      submitState: 'IN_FLIGHT',
      submitAttempts: 1,
    });

    await sweepLocalStack(stack, { graceSeconds: 0 });

    const job = await settled(jobId);
    expect(job).toMatchObject({ status: 'FAILED', errorCode: 'SUBMIT_OUTCOME_UNKNOWN' });
    expect(emulatorOf(stack).control.counters().byEndpoint.submit ?? 0).toBe(0);
  });

  it('leaves running and finished jobs alone', async () => {
    const done = await stack.runJob(REQUEST, { jobId: newJobId() });
    expect(done.job.status).toBe('COMPLETED');
    const report = await sweepLocalStack(stack, { graceSeconds: 0 });
    expect(report.jobs.map((job) => job.jobId)).not.toContain(done.job.jobId);
  });
});
