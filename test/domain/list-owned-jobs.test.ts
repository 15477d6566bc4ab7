import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidCursorError, type JobQuery, type OwnerPage, type OwnerPageKey } from '#domain/list-jobs';
import { listOwnedJobs } from '#domain/list-owned-jobs';
import { JOB_STATUSES, type JobStatus, type VideoJob } from '#domain/video-job';
import { pendingJob } from '#test/support/workflow-fakes';

/** Newest first as the byOwner index returns it; equal createdAt ordered by jobId. */
const indexOrder = (a: VideoJob, b: VideoJob): number =>
  a.createdAt === b.createdAt ? (a.jobId < b.jobId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

/**
 * The byOwner index in memory, with DynamoDB's semantics: `limit` counts items READ, the status filter
 * applies after the read, and a key comes back whenever the read stopped at the limit.
 */
class FakeOwnerIndex implements Pick<JobQuery, 'listByOwner'> {
  readonly queries: { owner: string; limit: number; status?: JobStatus; startKey?: OwnerPageKey }[] = [];
  constructor(readonly jobs: VideoJob[]) {}

  async listByOwner(
    owner: string,
    options: { limit: number; status?: JobStatus; startKey?: OwnerPageKey },
  ): Promise<OwnerPage> {
    this.queries.push({ owner, ...options });
    const ordered = this.jobs.filter((j) => j.owner === owner).sort(indexOrder);
    const start = options.startKey;
    const after =
      start === undefined
        ? ordered
        : ordered.filter((j) => indexOrder(j, { ...j, jobId: start.jobId, createdAt: start.createdAt }) > 0);
    const read = after.slice(0, options.limit);
    const last = read.at(-1);
    return {
      jobs: read.filter((j) => options.status === undefined || j.status === options.status),
      ...(read.length === options.limit && last !== undefined
        ? { lastKey: { jobId: last.jobId, owner, createdAt: last.createdAt } }
        : {}),
    };
  }
}

const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();

const allPages = async (
  query: FakeOwnerIndex,
  owner: string,
  status: JobStatus | undefined,
  limit: number,
) => {
  const seen: VideoJob[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i += 1) {
    const result = await listOwnedJobs(query, owner, {
      limit,
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    expect(result.jobs.length).toBeLessThanOrEqual(limit);
    seen.push(...result.jobs);
    cursor = result.nextCursor;
    if (cursor === undefined) return seen;
  }
  throw new Error('pagination did not end');
};

describe('listOwnedJobs', () => {
  it("lists exactly the owner's jobs, newest first, over any page size and status filter", async () => {
    const owners = ['api-key:a', 'api-key:b', 's3:uploads'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            owner: fc.constantFrom(...owners),
            status: fc.constantFrom(...JOB_STATUSES),
            minute: fc.integer({ min: 0, max: 30 }),
          }),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 7 }),
        fc.option(fc.constantFrom(...JOB_STATUSES), { nil: undefined }),
        async (specs, limit, status) => {
          const jobs = specs.map((s, i) =>
            pendingJob(`job-${i}`, { owner: s.owner, status: s.status, createdAt: at(s.minute) }),
          );
          const index = new FakeOwnerIndex(jobs);
          const listed = await allPages(index, 'api-key:a', status, limit);
          const expected = jobs
            .filter((j) => j.owner === 'api-key:a' && (status === undefined || j.status === status))
            .sort(indexOrder);
          expect(listed.map((j) => j.jobId)).toEqual(expected.map((j) => j.jobId));
          expect(index.queries.every((q) => q.owner === 'api-key:a')).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads one query per page without a status filter', async () => {
    const jobs = Array.from({ length: 30 }, (_, i) =>
      pendingJob(`job-${i}`, { owner: 'o', createdAt: at(i) }),
    );
    const index = new FakeOwnerIndex(jobs);
    const page = await listOwnedJobs(index, 'o', { limit: 10 });
    expect(page.jobs.map((j) => j.jobId)).toEqual(Array.from({ length: 10 }, (_, i) => `job-${29 - i}`));
    expect(index.queries).toHaveLength(1);
    expect(page.nextCursor).toBeDefined();
  });

  it('bounds the reads of one page when the status is rare, and carries on from its cursor', async () => {
    const jobs = Array.from({ length: 1000 }, (_, i) =>
      pendingJob(`job-${i}`, { owner: 'o', status: i === 0 ? 'FAILED' : 'COMPLETED', createdAt: at(i % 60) }),
    );
    const index = new FakeOwnerIndex(jobs);
    const first = await listOwnedJobs(index, 'o', { limit: 5, status: 'FAILED' });
    expect(first.jobs).toEqual([]);
    expect(index.queries.length).toBeLessThanOrEqual(5);
    expect(first.nextCursor).toBeDefined();
    const rest = await allPages(index, 'o', 'FAILED', 5);
    expect(rest.map((j) => j.jobId)).toEqual(['job-0']);
  });

  it('refuses a cursor of another filter or of the all-jobs listing', async () => {
    const jobs = Array.from({ length: 5 }, (_, i) =>
      pendingJob(`job-${i}`, { owner: 'o', createdAt: at(i) }),
    );
    const index = new FakeOwnerIndex(jobs);
    const { nextCursor } = await listOwnedJobs(index, 'o', { limit: 2 });
    await expect(
      listOwnedJobs(index, 'o', { limit: 2, status: 'FAILED', cursor: nextCursor }),
    ).rejects.toThrow(InvalidCursorError);
    const allJobsCursor = Buffer.from(JSON.stringify({ v: 1, f: '*', p: {} })).toString('base64url');
    await expect(listOwnedJobs(index, 'o', { cursor: allJobsCursor })).rejects.toThrow(InvalidCursorError);
  });
});
