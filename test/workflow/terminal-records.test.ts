// What the record says once a job has ended, however it ended: a completed record no longer reads like a
// running one, a failed one keeps its poll count, and an execution stopped where no Catch runs still
// leaves its job terminal (the execution reconciler, delivered the status change as EventBridge would).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXECUTION_ABORTED_MESSAGE } from '#domain/reconcile-execution';
import { videoRequestSchema } from '#domain/video-request';
import type { LocalStack } from '#local/stack';
import { describeJob, emulatorOf, startTestStack } from '#test/workflow/support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 100 });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => emulatorOf(stack).control.reset());

const SHORT_JOB = { resolution: '1080p', duration: 6 } as const;

describe('a completed record', () => {
  it("says Segmind's last status was COMPLETED, with the polls it took and no error", async () => {
    const { job } = await stack.runJob({ prompt: 'a lighthouse at dawn', ...SHORT_JOB });

    expect(job.status, describeJob(job)).toBe('COMPLETED');
    expect(job.lastSegmindStatus).toBe('COMPLETED');
    expect(job.pollCount).toBe(emulatorOf(stack).control.counters().byEndpoint.status);
    expect(job).not.toHaveProperty('errorCode');
    expect(job).not.toHaveProperty('errorMessage');
  });
});

describe('a failed record', () => {
  it('keeps the number of status polls the job took', async () => {
    emulatorOf(stack).control.addFailureRule({ promptContains: 'melting', kind: 'failed', error: 'nope' });

    const { job } = await stack.runJob({ prompt: 'a melting clock', ...SHORT_JOB });

    expect(job.status, describeJob(job)).toBe('FAILED');
    const polls = emulatorOf(stack).control.counters().byEndpoint.status ?? 0;
    expect(polls).toBeGreaterThanOrEqual(1);
    expect(job.pollCount).toBe(polls);
  });
});

describe('an execution stopped from outside (no Catch runs)', () => {
  it('still ends its job: CANCELLED, with when and why', async () => {
    const jobId = `stopped-${Date.now().toString(36)}`;
    const request = videoRequestSchema.parse({ prompt: 'a very slow tide', ...SHORT_JOB });
    const now = new Date().toISOString();
    await stack.jobs.create({
      jobId,
      status: 'PENDING',
      source: 'cli',
      request,
      createdAt: now,
      updatedAt: now,
    });
    const stop = new AbortController();

    const execution = await stack.stateMachine.execute(
      { jobId, request },
      {
        name: jobId,
        signal: stop.signal,
        // Stopped once Segmind has the job: the record says QUEUED, and only the reconciler can end it.
        onEvent: (event) => {
          if (event.type === 'StateEntered' && event.state.name === 'WaitForFirstPoll') stop.abort();
        },
      },
    );

    expect(execution.status).toBe('ABORTED');
    const job = await stack.jobs.get(jobId);
    expect(job, 'the record').toBeDefined();
    expect(job).toMatchObject({
      status: 'CANCELLED',
      errorCode: 'JobCancelledError',
      errorMessage: EXECUTION_ABORTED_MESSAGE,
      cancelledAt: expect.any(String),
      segmindRequestId: expect.any(String),
    });
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(1);
  });
});
