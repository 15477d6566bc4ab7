// Whose job it is. Every job records its owner — the API caller that created it, or the entry point
// (uploads bucket, batch) that did — and the API answers a caller about its own jobs only: someone else's
// job is "not found", never "forbidden", so an answer never confirms that a job id exists.
import { JobNotFoundError } from '#domain/cancel-job';
import type { JobStore } from '#domain/job-store';
import type { VideoJob } from '#domain/video-job';

/**
 * Who is asking. `owner` for an authenticated caller (its IAM principal or API key id); `local-user` only
 * on a local API that asks for no credentials, where the one person at the keyboard sees every job.
 */
export type Caller = { kind: 'owner'; owner: string } | { kind: 'local-user' };

/** Jobs an image upload started belong to its bucket: the uploader has no API identity. */
export const uploadOwner = (bucket: string): string => `s3:${bucket}`;
/** Jobs of a batch line belong to the batch (a scheduled run or a hand-started one). */
export const batchOwner = (batchId: string): string => `batch:${batchId}`;
/** Jobs `npm run generate` runs on the local stack. */
export const CLI_OWNER = 'cli';

export const canSee = (caller: Caller, job: VideoJob): boolean =>
  caller.kind === 'local-user' || (job.owner !== undefined && job.owner === caller.owner);

/** The job, if it exists and the caller may see it; JobNotFoundError otherwise, the same in both cases. */
export const ownedJob = async (
  jobs: Pick<JobStore, 'get'>,
  jobId: string,
  caller: Caller,
): Promise<VideoJob> => {
  const job = await jobs.get(jobId);
  if (job === undefined || !canSee(caller, job)) throw new JobNotFoundError(jobId);
  return job;
};
