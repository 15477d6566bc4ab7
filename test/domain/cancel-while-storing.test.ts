// A cancel racing the copy of a paid video, forced at every point between the workflow's steps: the
// record and the bucket must agree whatever the order — an object exactly when the job is COMPLETED.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import {
  CANCEL_REASON,
  type CancelJobPorts,
  cancelJob,
  JobAlreadyEndedError,
  JobBeingStoredError,
} from '#domain/cancel-job';
import { JobCancelledError } from '#domain/errors';
import { recordFailure } from '#domain/record-failure';
import { type StoreVideoDeps, storeVideo } from '#domain/store-video';
import type { JobStatus, StoredVideo } from '#domain/video-job';
import { InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';

const NOW = new Date('2030-01-01T00:05:00.000Z');
const BODY = (() => {
  const body = Buffer.alloc(4096, 0x5a);
  Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]).copy(body);
  return body;
})();

/** The points between the workflow's writes where a cancel can land (each write is atomic). */
const POINTS = ['before-storing', 'during-download', 'after-upload', 'after-completion'] as const;
type Point = (typeof POINTS)[number];

/**
 * Runs the tail of the workflow — StoreVideo (mark STORING, download, upload), then RecordCompletion (the
 * state machine's conditional write: STORING → COMPLETED) or, on an error, RecordFailure — with a cancel
 * through the API at `point`.
 */
const race = async (point: Point, from: JobStatus = 'PROCESSING') => {
  const store = new InMemoryJobStore();
  const jobId = `job-${point}`;
  store.put(pendingJob(jobId, { status: from, segmindRequestId: 'req-1', submitState: 'ACCEPTED' }));
  const bucket = new Map<string, Buffer>();
  const ports: CancelJobPorts = {
    jobs: store,
    workflow: { stop: async () => 'stopped' },
    events: { jobEnded: async () => {} },
    now: () => NOW,
  };
  let cancel: Promise<unknown> | undefined;
  const cancelNow = async () => {
    cancel = cancelJob(ports, jobId).then(
      (result) => ({ answer: 'cancelled' as const, status: result.job.status }),
      (error: unknown) => ({ answer: 'refused' as const, error }),
    );
    await cancel;
  };

  const deps: StoreVideoDeps = {
    jobs: store,
    source: {
      open: async () => {
        if (point === 'during-download') await cancelNow();
        return { body: Readable.from([BODY]), contentType: 'video/mp4', contentLength: BODY.length };
      },
    },
    sink: {
      write: async (body, spec) => {
        const bytes = await buffer(body);
        bucket.set(spec.key, bytes);
      },
    },
    bucket: 'videos',
    now: () => NOW,
  };

  if (point === 'before-storing') await cancelNow();
  let stored: StoredVideo | undefined;
  let storeError: unknown;
  try {
    stored = await storeVideo({ jobId, segmindRequestId: 'req-1', videoUrl: 'https://cdn/v.mp4' }, deps);
  } catch (error) {
    storeError = error;
  }
  if (stored !== undefined) {
    if (point === 'after-upload') await cancelNow();
    // RecordCompletion: `SET status = COMPLETED ... CONDITION status = STORING`.
    const job = store.peek(jobId);
    if (job?.status === 'STORING') store.put({ ...job, status: 'COMPLETED', video: stored });
    else
      throw new Error(`RecordCompletion's condition failed on a ${job?.status} job: the object is orphaned`);
  } else {
    await recordFailure(
      { jobId, failure: { Error: (storeError as Error).name, Cause: (storeError as Error).message } },
      { store, clock: { now: () => NOW } },
    );
  }
  if (point === 'after-completion') await cancelNow();
  return { job: store.peek(jobId), bucket, cancel: await cancel, storeError };
};

describe('a cancel racing the copy of a paid video', () => {
  it.each(POINTS)('cancel %s: an object exactly when the job is COMPLETED', async (point) => {
    const { job, bucket } = await race(point);
    expect(job?.status === 'COMPLETED').toBe(bucket.size === 1);
    expect(['COMPLETED', 'CANCELLED']).toContain(job?.status);
    if (job?.status === 'COMPLETED') expect([...bucket.keys()]).toEqual([job.video?.key]);
  });

  it('a cancel before STORING wins: CANCELLED, the late video is discarded, nothing is written', async () => {
    const { job, bucket, cancel, storeError } = await race('before-storing');
    expect(cancel).toEqual({ answer: 'cancelled', status: 'CANCELLED' });
    expect(storeError).toBeInstanceOf(JobCancelledError);
    expect(job).toMatchObject({ status: 'CANCELLED', errorMessage: CANCEL_REASON });
    expect(bucket.size).toBe(0);
  });

  it.each(['during-download', 'after-upload'] as const)(
    'a cancel %s is refused (the video is paid for) and the job ends COMPLETED',
    async (point) => {
      const { job, bucket, cancel } = await race(point);
      expect(cancel).toMatchObject({ answer: 'refused', error: expect.any(JobBeingStoredError) });
      expect(job?.status).toBe('COMPLETED');
      expect(job?.cancelledAt).toBeUndefined();
      expect(bucket.size).toBe(1);
    },
  );

  it('a cancel after the job completed is refused as already ended', async () => {
    const { cancel } = await race('after-completion');
    expect(cancel).toMatchObject({ answer: 'refused', error: expect.any(JobAlreadyEndedError) });
  });

  it.each(['PENDING', 'QUEUED', 'PROCESSING'] as const)('a %s job can be cancelled', async (from) => {
    const { job, bucket } = await race('before-storing', from);
    expect(job?.status).toBe('CANCELLED');
    expect(bucket.size).toBe(0);
  });
});
