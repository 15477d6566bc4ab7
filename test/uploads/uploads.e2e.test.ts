// Image upload → image-to-video, end to end on the local stack: objects put into local S3 raise the same
// EventBridge events as on AWS, the upload handler starts the synthesized state machine, and the emulator
// fetches the presigned image URL it was given.
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobIdFromS3Object } from '#domain/job-id';
import type { UploadOutcome } from '#domain/upload-job';
import type { LocalStack } from '#local/stack';
import { startUploadsWatcher, type UploadsWatcher } from '#local/uploads-watcher';
import {
  describeJob,
  emulatorOf,
  readObject,
  sha256,
  startTestStack,
} from '#test/workflow/support/local-stack';

/** A real 1×1 PNG: the emulator downloads it, so it must be a readable object, not a stub. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

let stack: LocalStack;
let watcher: UploadsWatcher;
const outcomes: UploadOutcome[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 100 });
  watcher = await startUploadsWatcher(stack, {
    onOutcome: (outcome) => outcomes.push(outcome),
    onError: (error) => errors.push(error),
  });
});

afterAll(async () => {
  await watcher?.stop();
  await stack?.stop();
});

beforeEach(() => {
  emulatorOf(stack).control.reset();
  outcomes.length = 0;
  errors.length = 0;
});

const put = async (key: string, body: string | Buffer, metadata?: Record<string, string>) => {
  const { ETag } = await stack.s3.client.send(
    new PutObjectCommand({
      Bucket: stack.s3.uploadsBucket,
      Key: key,
      Body: body,
      ...(metadata ? { Metadata: metadata } : {}),
    }),
  );
  return jobIdFromS3Object({ bucket: stack.s3.uploadsBucket, key, etag: ETag });
};

const jobOf = async (jobId: string) => {
  const job = await stack.jobs.get(jobId);
  if (!job) throw new Error(`no record for job ${jobId}; outcomes: ${JSON.stringify(outcomes)}`);
  return job;
};

describe('an image uploaded with its sidecar', () => {
  it('becomes a COMPLETED job whose Segmind request carried the presigned image URL', async () => {
    await put(
      'uploads/fox.png.json',
      JSON.stringify({ prompt: 'the fox looks up', resolution: '1080p', duration: 6 }),
    );
    const jobId = await put('uploads/fox.png', PNG);
    await watcher.idle();

    expect(errors).toEqual([]);
    const job = await jobOf(jobId);
    expect(job.status, describeJob(job)).toBe('COMPLETED');
    expect(job.source).toBe('upload');
    expect(job.request).toMatchObject({ prompt: 'the fox looks up', resolution: '1080p', duration: 6 });

    const imageUrl = new URL(job.request.imageUrl ?? '');
    expect(`${imageUrl.origin}${imageUrl.pathname}`).toBe(
      `${stack.s3.endpoint}/${stack.s3.uploadsBucket}/uploads/fox.png`,
    );
    expect(imageUrl.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(imageUrl.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

    const emulator = emulatorOf(stack).control;
    expect(emulator.jobs().map((j) => j.image)).toEqual([job.request.imageUrl]);
    expect(emulator.counters().jobsCreated).toBe(1);
    // The URL works: the emulator fetched it (an unreachable image would have FAILED the job), and so can we.
    const fetched = Buffer.from(await (await fetch(imageUrl)).arrayBuffer());
    expect(sha256(fetched)).toBe(sha256(PNG));

    const video = job.video;
    if (!video) throw new Error(`no video on ${describeJob(job)}`);
    expect(sha256(await readObject(stack, video.bucket, video.key))).toBe(video.sha256);
  });

  it('makes one job however often its event is delivered', async () => {
    await put(
      'uploads/owl.jpg.json',
      JSON.stringify({ prompt: 'the owl blinks', resolution: '1080p', duration: 6 }),
    );
    const jobId = await put('uploads/owl.jpg', PNG);
    await watcher.idle();
    const event = watcher.delivered().find((e) => e.detail.object.key === 'uploads/owl.jpg');
    if (!event) throw new Error('the upload raised no event');

    const again = await watcher.deliver(event);
    const andAgain = await watcher.deliver(structuredClone(event));
    await watcher.idle();

    expect(again).toMatchObject({ action: 'existing', jobId, status: 'COMPLETED' });
    expect(andAgain).toMatchObject({ action: 'existing', jobId });
    expect((await jobOf(jobId)).status).toBe('COMPLETED');
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(1);
    expect(stack.workflow.list().filter((e) => e.name === jobId)).toHaveLength(1);
  });
});

describe('an upload that cannot run', () => {
  it('with a bad sidecar is a FAILED record that says why, and nothing reaches Segmind', async () => {
    await put('uploads/cat.webp.json', JSON.stringify({ prompt: 'a cat', duration: 7 }));
    const jobId = await put('uploads/cat.webp', PNG);
    await watcher.idle();

    const job = await jobOf(jobId);
    expect(job).toMatchObject({ status: 'FAILED', source: 'upload', errorCode: 'InvalidSidecarError' });
    expect(job.errorMessage).toContain('duration must be one of 6, 8, 10');
    expect(job.errorMessage).toContain(`s3://${stack.s3.uploadsBucket}/uploads/cat.webp.json`);
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(0);
    expect(stack.workflow.describe(jobId)).toBeUndefined();
  });

  it('without a prompt is FAILED, and a sidecar uploaded afterwards starts its job', async () => {
    const rejectedId = await put('uploads/dog.png', PNG);
    await watcher.idle();
    expect(await jobOf(rejectedId)).toMatchObject({ status: 'FAILED', errorCode: 'MissingPromptError' });

    const startedId = await put(
      'uploads/dog.png.json',
      JSON.stringify({ prompt: 'the dog wags its tail', resolution: '1080p', duration: 6 }),
    );
    await watcher.idle();

    const job = await jobOf(startedId);
    expect(job.status, describeJob(job)).toBe('COMPLETED');
    expect(job.request.imageUrl).toContain('/uploads/dog.png?');
    expect((await jobOf(rejectedId)).status).toBe('FAILED');
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(1);
  });

  it('copied in without a prompt is FAILED too: a copy raises the event as a put does', async () => {
    await put('staging/bird.png', PNG);
    await stack.s3.client.send(
      new CopyObjectCommand({
        Bucket: stack.s3.uploadsBucket,
        Key: 'uploads/bird.png',
        CopySource: `${stack.s3.uploadsBucket}/staging/bird.png`,
      }),
    );
    await watcher.idle();

    expect(outcomes).toEqual([
      expect.objectContaining({ action: 'rejected', errorCode: 'MissingPromptError' }),
    ]);
    expect(watcher.delivered().filter((e) => e.detail.object.key === 'staging/bird.png')).toEqual([]);
  });
});
