// Reads what a soak left behind, for the invariants: the record of every job it started, every
// object of the videos bucket (hashed, for videos), open multipart uploads, the events published and the
// emulator's counters.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { VideoJob } from '#domain/video-job';
import type { SoakPlan } from '#local/soak/driver';
import { type SoakEvidence, type StoredObject, VIDEO_PREFIX } from '#local/soak/invariants';
import type { LocalStack } from '#local/stack';

export const gatherEvidence = async (
  stack: LocalStack,
  run: {
    plan: Pick<SoakPlan, 'timeScale' | 'deadlineSeconds'>;
    startedJobIds: string[];
    cancelledByUser: string[];
    logLeaks: SoakEvidence['logLeaks'];
    logLines: number;
  },
): Promise<SoakEvidence> => {
  const emulator = stack.emulator;
  if (emulator === undefined) throw new Error('a soak runs against the emulator');
  const [jobs, objects, openMultipartUploads] = await Promise.all([
    readJobs(stack, run.startedJobIds),
    listObjects(stack),
    listOpenUploads(stack),
  ]);
  return {
    timeScale: run.plan.timeScale,
    deadlineSeconds: run.plan.deadlineSeconds,
    jobs,
    startedJobIds: run.startedJobIds,
    cancelledByUser: run.cancelledByUser,
    requests: emulator.control.requests(),
    submits: emulator.control.submits(),
    createdWithoutAnswer: emulator.control.counters().createdWithoutAnswer,
    objects,
    openMultipartUploads,
    events: stack.events.events().map((event) => {
      const jobId: unknown =
        typeof event.detail === 'object' && event.detail !== null
          ? Reflect.get(event.detail, 'jobId')
          : undefined;
      return { detailType: event['detail-type'], jobId: typeof jobId === 'string' ? jobId : undefined };
    }),
    logLeaks: run.logLeaks,
    logLines: run.logLines,
  };
};

/** Every started job's record, a few reads at a time (dynalite's Scan is fragile under concurrent writes). */
const readJobs = async (stack: LocalStack, jobIds: readonly string[]): Promise<VideoJob[]> => {
  const jobs: VideoJob[] = [];
  for (let i = 0; i < jobIds.length; i += 16) {
    const records = await Promise.all(jobIds.slice(i, i + 16).map((id) => stack.jobs.get(id)));
    for (const record of records) if (record !== undefined) jobs.push(record);
  }
  return jobs;
};

const sha256Of = async (stack: LocalStack, key: string): Promise<string> => {
  const { Body } = await stack.s3.client.send(
    new GetObjectCommand({ Bucket: stack.s3.videosBucket, Key: key }),
  );
  if (Body === undefined) throw new Error(`s3://${stack.s3.videosBucket}/${key} has no body`);
  const hash = createHash('sha256');
  for await (const chunk of Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
};

const listObjects = async (stack: LocalStack): Promise<StoredObject[]> => {
  const objects: StoredObject[] = [];
  let token: string | undefined;
  do {
    const page = await stack.s3.client.send(
      new ListObjectsV2Command({
        Bucket: stack.s3.videosBucket,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) objects.push({ key: object.Key, size: object.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  // Hashed a few at a time: the bucket server shares the machine with the pipeline.
  const videos = objects.filter((o) => o.key.startsWith(VIDEO_PREFIX));
  for (let i = 0; i < videos.length; i += 8) {
    await Promise.all(
      videos.slice(i, i + 8).map(async (object) => {
        object.sha256 = await sha256Of(stack, object.key);
      }),
    );
  }
  return objects;
};

/**
 * Multipart uploads still open in the videos bucket. s3rver implements neither ListMultipartUploads nor
 * AbortMultipartUpload, so this reads its store: one directory per open upload, holding the key.
 */
const listOpenUploads = async (stack: LocalStack): Promise<string[]> => {
  const dir = join(stack.dataDir, 's3', stack.s3.videosBucket, S3RVER_UPLOADS);
  const ids = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return Promise.all(
    ids.map(async (id) => `${await readFile(join(dir, id, 'key'), 'utf8').catch(() => '?')} (${id})`),
  );
};

/** s3rver's name for a bucket's open multipart uploads, in its filesystem store. */
const S3RVER_UPLOADS = '._S3rver_uploads';
