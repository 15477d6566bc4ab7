// Shared by the workflow tests: one local stack per test file (the handlers read their configuration once
// per process), and the few reads a test needs to check what the job left behind in local S3.
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { VideoJob } from '#domain/video-job';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '#local/stack';

/** The emulator, always: a SEGMIND_API_KEY in the developer's shell must never send tests to Segmind. */
export const startTestStack = (
  options: Omit<LocalStackOptions, 'segmind' | 'dataDir'>,
): Promise<LocalStack> => {
  // The job record carries every failure a test checks; the handlers' warnings would only bury the report.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  return startLocalStack({ seed: 7, ...options, segmind: 'emulator' });
};

export const emulatorOf = (stack: LocalStack) => {
  if (!stack.emulator) throw new Error('the workflow tests run against the emulator');
  return stack.emulator;
};

export const readObject = async (stack: LocalStack, bucket: string, key: string): Promise<Buffer> => {
  const { Body } = await stack.s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return Buffer.from(await Body.transformToByteArray());
};

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Every key in the videos bucket that mentions the job: a failed copy must leave none. */
export const videoKeysOf = async (stack: LocalStack, jobId: string): Promise<string[]> => {
  const { Contents = [] } = await stack.s3.client.send(
    new ListObjectsV2Command({ Bucket: stack.s3.videosBucket }),
  );
  return Contents.flatMap((object) => (object.Key?.includes(jobId) ? [object.Key] : []));
};

/** The events the workflow published about one job, by detail type. */
export const eventTypesOf = (stack: LocalStack, jobId: string): string[] =>
  stack.events
    .events()
    .filter((event) => (event.detail as { jobId?: unknown } | null)?.jobId === jobId)
    .map((event) => event['detail-type']);

/** A short description of a record for assertion messages. */
export const describeJob = (job: VideoJob): string =>
  `${job.jobId} ${job.status} ${job.errorCode ?? ''} ${job.errorMessage ?? ''}`.trim();

/** Every key under a prefix of the videos bucket (e.g. the staging area a failed copy must leave empty). */
export const allKeysUnder = async (stack: LocalStack, prefix: string): Promise<string[]> => {
  const { Contents = [] } = await stack.s3.client.send(
    new ListObjectsV2Command({ Bucket: stack.s3.videosBucket, Prefix: prefix }),
  );
  return Contents.flatMap((object) => (object.Key === undefined ? [] : [object.Key]));
};
