// One caller's jobs, newest first, one page at a time, over the `byOwner` index (partition `owner`, sort
// `createdAt`): one query per page, whatever the number of other callers' jobs. A status filter is applied
// to the owner's own jobs as they are read; a page then reads on until it is full, up to a bounded number
// of reads, so a rare status costs a few more reads, never a scan of the table. The cursor (base64url JSON)
// holds where the read stopped; the owner always comes from the caller, never from the cursor.
import * as z from 'zod';
import { JOB_ID_PATTERN } from '#domain/job-id';
import {
  checkedLimit,
  cursorCodec,
  type JobQuery,
  type ListJobsResult,
  type OwnerPageKey,
} from '#domain/list-jobs';
import { JOB_STATUSES, type JobStatus, type VideoJob } from '#domain/video-job';

/** Items read per query when filtering by status: a page's worth at least, fewer round trips when rare. */
const FILTERED_READ = 100;
/** Queries one page may take before it answers with what it has (and a cursor to carry on). */
const MAX_READS_PER_PAGE = 5;

const cursorSchema = z
  .object({
    v: z.literal(1),
    /** Marks an owner listing's cursor, so that one from the all-jobs listing is refused. */
    o: z.literal(true),
    f: z.union([z.enum(JOB_STATUSES), z.literal('*')]),
    k: z
      .object({ jobId: z.string().regex(JOB_ID_PATTERN), createdAt: z.iso.datetime({ offset: true }) })
      .strict(),
  })
  .strict();

const cursors = cursorCodec(cursorSchema);

export interface ListOwnedJobsOptions {
  status?: JobStatus;
  limit?: number;
  cursor?: string;
}

export const listOwnedJobs = async (
  query: Pick<JobQuery, 'listByOwner'>,
  owner: string,
  options: ListOwnedJobsOptions = {},
): Promise<ListJobsResult> => {
  const limit = checkedLimit(options.limit);
  const filter = options.status ?? '*';
  const from = options.cursor === undefined ? undefined : cursors.decode(options.cursor, filter).k;
  let startKey: OwnerPageKey | undefined = from === undefined ? undefined : { ...from, owner };

  const jobs: VideoJob[] = [];
  for (let reads = 0; reads < MAX_READS_PER_PAGE && jobs.length < limit; reads += 1) {
    const wanted = limit - jobs.length;
    const page = await query.listByOwner(owner, {
      limit: options.status === undefined ? wanted : Math.max(wanted, FILTERED_READ),
      ...(options.status === undefined ? {} : { status: options.status }),
      ...(startKey === undefined ? {} : { startKey }),
    });
    const taken = page.jobs.slice(0, wanted);
    jobs.push(...taken);
    if (taken.length < page.jobs.length) {
      // The read went past a full page: resume right after the last job on it.
      const last = taken.at(-1);
      startKey = last === undefined ? startKey : { jobId: last.jobId, owner, createdAt: last.createdAt };
      break;
    }
    startKey = page.lastKey;
    if (startKey === undefined) break;
  }
  return {
    jobs,
    ...(startKey === undefined
      ? {}
      : {
          nextCursor: cursors.encode({
            v: 1,
            o: true,
            f: filter,
            k: { jobId: startKey.jobId, createdAt: startKey.createdAt },
          }),
        }),
  };
};
