// Listing jobs newest first, one page at a time, over the `byStatus` index (partition `status`, sort
// `createdAt`). With a status filter that is one query. Without one, each status is queried and the
// results merged: the page holds the newest jobs over all statuses, and the cursor remembers where each
// status stopped. The cursor is opaque to callers (base64url JSON) and checked on the way back in.
import * as z from 'zod';
import { JOB_ID_PATTERN } from '#domain/job-id';
import { JOB_STATUSES, type JobStatus, type VideoJob } from '#domain/video-job';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Far above any real cursor (9 statuses × ~150 bytes); refuses oversized input before decoding it. */
const MAX_CURSOR_LENGTH = 4096;

/** Where a query over one status resumes: the index key of the last item returned. */
export interface JobPageKey {
  jobId: string;
  status: JobStatus;
  createdAt: string;
}

export interface JobPage {
  jobs: VideoJob[];
  /** Absent when the status has no more jobs. */
  lastKey?: JobPageKey;
}

/** Where a query over one owner's jobs resumes: the index key of the last item read. */
export interface OwnerPageKey {
  jobId: string;
  owner: string;
  createdAt: string;
}

export interface OwnerPage {
  /** The owner's jobs among the items read (all of them without a status filter). */
  jobs: VideoJob[];
  /** Absent when the owner has no more jobs. */
  lastKey?: OwnerPageKey;
}

/** Reads the `byStatus` and `byOwner` indexes, newest first. */
export interface JobQuery {
  listByStatus(status: JobStatus, options: { limit: number; startKey?: JobPageKey }): Promise<JobPage>;
  /** Reads up to `limit` of the owner's jobs, keeping those of `status` when given. */
  listByOwner(
    owner: string,
    options: { limit: number; status?: JobStatus; startKey?: OwnerPageKey },
  ): Promise<OwnerPage>;
}

export interface ListJobsOptions {
  status?: JobStatus;
  limit?: number;
  cursor?: string;
}

export interface ListJobsResult {
  jobs: VideoJob[];
  /** Pass back as `cursor` for the next page; undefined on the last page. */
  nextCursor?: string;
}

/** The cursor is not one we issued, or was issued for another status filter. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

// ---- the cursor ----

/** Per status: null = start from the newest; a key = resume after it. A status missing = exhausted. */
type Positions = Partial<Record<JobStatus, { jobId: string; createdAt: string } | null>>;

const cursorSchema = z
  .object({
    v: z.literal(1),
    /** The status filter the cursor belongs to ('*' = all). */
    f: z.union([z.enum(JOB_STATUSES), z.literal('*')]),
    p: z.partialRecord(
      z.enum(JOB_STATUSES),
      z
        .object({ jobId: z.string().regex(JOB_ID_PATTERN), createdAt: z.iso.datetime({ offset: true }) })
        .strict()
        .nullable(),
    ),
  })
  .strict();

/** The status filter a cursor belongs to ('*' = all statuses). */
export type StatusFilter = JobStatus | '*';

/**
 * The opaque cursors of one listing: base64url JSON checked against the listing's own schema on the way
 * back in, and refused when it was issued for another status filter than the request's.
 */
export const cursorCodec = <T extends { f: StatusFilter }>(schema: z.ZodType<T>) => ({
  encode: (cursor: T): string => Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url'),
  decode: (cursor: string, filter: StatusFilter): T => {
    const invalid = new InvalidCursorError('cursor is not one this API issued; start again without it');
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw invalid;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) throw invalid;
    if (result.data.f !== filter) {
      throw new InvalidCursorError(
        `cursor belongs to a listing ${result.data.f === '*' ? 'of all statuses' : `of status ${result.data.f}`}; ` +
          'pass the same status filter as for the previous page',
      );
    }
    return result.data;
  },
});

const cursors = cursorCodec(cursorSchema);

export const checkedLimit = (limit: number | undefined): number => {
  const value = limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${String(limit)}`);
  }
  return value;
};

// ---- the merge ----

interface Stream {
  status: JobStatus;
  page: JobPage;
  /** Where this status's query started, carried over when the page takes nothing from it. */
  from: { jobId: string; createdAt: string } | null;
}

export const newestFirst = (a: VideoJob, b: VideoJob): number =>
  a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0;

export const listJobs = async (
  query: Pick<JobQuery, 'listByStatus'>,
  options: ListJobsOptions = {},
): Promise<ListJobsResult> => {
  const limit = checkedLimit(options.limit);
  const filter = options.status ?? '*';
  const start: Positions =
    options.cursor === undefined
      ? Object.fromEntries((filter === '*' ? JOB_STATUSES : [filter]).map((s) => [s, null]))
      : cursors.decode(options.cursor, filter).p;

  const streams: Stream[] = await Promise.all(
    (Object.entries(start) as [JobStatus, Positions[JobStatus]][]).map(async ([status, from = null]) => ({
      status,
      from,
      page: await query.listByStatus(status, {
        limit,
        ...(from === null ? {} : { startKey: { status, jobId: from.jobId, createdAt: from.createdAt } }),
      }),
    })),
  );

  // A status whose query stopped early (DynamoDB's 1 MB page) may hold unread jobs newer than what the
  // other statuses returned; only jobs at least as new as its last one are known to be in order.
  const cutoff =
    streams
      .filter((s) => s.page.lastKey !== undefined && s.page.jobs.length > 0)
      .map((s) => s.page.jobs.at(-1)?.createdAt ?? '')
      .sort()
      .at(-1) ?? '';

  // Each status's jobs arrive newest first and the sort is stable, so what a page takes from a status
  // is always a prefix of what that status returned: the cursor can resume right after it.
  const page = streams
    .flatMap((s) => s.page.jobs)
    .filter((job) => job.createdAt >= cutoff)
    .sort(newestFirst)
    .slice(0, limit);

  const onPage = new Set(page);
  const next: Positions = {};
  for (const stream of streams) {
    const taken = stream.page.jobs.filter((job) => onPage.has(job));
    const last = taken.at(-1);
    const exhausted = stream.page.lastKey === undefined && taken.length === stream.page.jobs.length;
    if (exhausted) continue;
    next[stream.status] = last === undefined ? stream.from : { jobId: last.jobId, createdAt: last.createdAt };
  }
  return {
    jobs: page,
    ...(Object.keys(next).length === 0 ? {} : { nextCursor: cursors.encode({ v: 1, f: filter, p: next }) }),
  };
};
