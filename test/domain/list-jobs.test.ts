import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidCursorError,
  type JobPage,
  type JobPageKey,
  type JobQuery,
  listJobs,
} from '#domain/list-jobs';
import { JOB_STATUSES, type JobStatus, type VideoJob } from '#domain/video-job';
import { pendingJob } from '#test/support/workflow-fakes';

/** Newest first as the byStatus index returns it; equal createdAt ordered by jobId (DynamoDB picks some order). */
const indexOrder = (a: VideoJob, b: VideoJob): number =>
  a.createdAt === b.createdAt ? (a.jobId < b.jobId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

/**
 * The byStatus index in memory, with DynamoDB's paging: a query resumes after the key it is given, stops
 * at `limit` items or earlier at `maxPerPage` (standing in for the 1 MB page size), and returns a key
 * whenever it stopped for either reason — even if nothing is left, as DynamoDB does.
 */
class FakeStatusIndex implements Pick<JobQuery, 'listByStatus'> {
  readonly queries: { status: JobStatus; limit: number; startKey?: JobPageKey }[] = [];
  constructor(
    readonly jobs: VideoJob[],
    readonly maxPerPage = Number.POSITIVE_INFINITY,
  ) {}

  async listByStatus(status: JobStatus, options: { limit: number; startKey?: JobPageKey }): Promise<JobPage> {
    this.queries.push({ status, ...options });
    const ordered = this.jobs.filter((j) => j.status === status).sort(indexOrder);
    const start = options.startKey;
    const after =
      start === undefined
        ? ordered
        : ordered.filter((j) => indexOrder(j, { ...j, jobId: start.jobId, createdAt: start.createdAt }) > 0);
    const size = Math.min(options.limit, this.maxPerPage);
    const page = after.slice(0, size);
    const last = page.at(-1);
    const stoppedEarly = page.length === size && last !== undefined;
    return {
      jobs: page,
      ...(stoppedEarly ? { lastKey: { jobId: last.jobId, status, createdAt: last.createdAt } } : {}),
    };
  }
}

const job = (n: number, status: JobStatus, createdAt: string): VideoJob =>
  pendingJob(`job-${n}`, { status, createdAt });

const allPages = async (
  query: Pick<JobQuery, 'listByStatus'>,
  status: JobStatus | undefined,
  limit: number,
) => {
  const pages: VideoJob[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i += 1) {
    const result = await listJobs(query, {
      limit,
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    pages.push(result.jobs);
    cursor = result.nextCursor;
    if (cursor === undefined) return pages;
  }
  throw new Error('pagination did not end');
};

const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();

describe('listJobs', () => {
  it('pages through one status newest first, without repeating or skipping a job', async () => {
    const jobs = [1, 2, 3, 4, 5].map((n) => job(n, 'COMPLETED', at(n)));
    const index = new FakeStatusIndex([...jobs, job(9, 'FAILED', at(9))]);

    const pages = await allPages(index, 'COMPLETED', 2);

    expect(pages.map((p) => p.map((j) => j.jobId))).toEqual([
      ['job-5', 'job-4'],
      ['job-3', 'job-2'],
      ['job-1'],
    ]);
    expect(new Set(index.queries.map((q) => q.status))).toEqual(new Set(['COMPLETED']));
  });

  it('merges every status newest first when no status is given', async () => {
    const index = new FakeStatusIndex([
      job(1, 'COMPLETED', at(1)),
      job(2, 'FAILED', at(2)),
      job(3, 'PENDING', at(3)),
      job(4, 'COMPLETED', at(4)),
    ]);

    const first = await listJobs(index, { limit: 3 });

    expect(first.jobs.map((j) => j.jobId)).toEqual(['job-4', 'job-3', 'job-2']);
    const second = await listJobs(index, {
      limit: 3,
      ...(first.nextCursor ? { cursor: first.nextCursor } : {}),
    });
    expect(second.jobs.map((j) => j.jobId)).toEqual(['job-1']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('returns every job exactly once, in newest-first order, for any data, page size and DynamoDB page cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...JOB_STATUSES), fc.integer({ min: 0, max: 8 })), {
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.option(fc.constantFrom(...JOB_STATUSES), { nil: undefined }),
        async (specs, limit, maxPerPage, status) => {
          const jobs = specs.map(([s, minute], n) => job(n, s, at(minute)));
          const pages = await allPages(new FakeStatusIndex(jobs, maxPerPage), status, limit);

          const listed = pages.flat();
          const expected = jobs.filter((j) => status === undefined || j.status === status);
          expect(listed.map((j) => j.jobId).sort()).toEqual(expected.map((j) => j.jobId).sort());
          for (const [i, j] of listed.entries()) {
            if (i > 0) expect(j.createdAt <= (listed[i - 1]?.createdAt ?? '')).toBe(true);
          }
          for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a cursor issued for another status filter', async () => {
    const index = new FakeStatusIndex([1, 2, 3].map((n) => job(n, 'FAILED', at(n))));
    const { nextCursor } = await listJobs(index, { status: 'FAILED', limit: 1 });
    expect(nextCursor).toBeDefined();

    await expect(
      listJobs(index, { status: 'COMPLETED', limit: 1, cursor: nextCursor ?? '' }),
    ).rejects.toThrow(/same status filter/);
    await expect(listJobs(index, { limit: 1, cursor: nextCursor ?? '' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    [
      'JSON of another shape',
      Buffer.from(JSON.stringify({ v: 1, f: '*', p: { PENDING: { jobId: 1 } } })).toString('base64url'),
    ],
    [
      'an unknown status',
      Buffer.from(JSON.stringify({ v: 1, f: '*', p: { DONE: null } })).toString('base64url'),
    ],
    ['too long', 'a'.repeat(5000)],
  ])('refuses a cursor that is %s, before querying anything', async (_, cursor) => {
    const index = new FakeStatusIndex([]);
    await expect(listJobs(index, { cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    expect(index.queries).toEqual([]);
  });

  it('refuses page sizes outside 1..100', async () => {
    const index = new FakeStatusIndex([]);
    await expect(listJobs(index, { limit: 0 })).rejects.toThrow(RangeError);
    await expect(listJobs(index, { limit: 101 })).rejects.toThrow(RangeError);
  });
});
