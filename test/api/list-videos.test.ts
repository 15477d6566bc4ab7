// GET /videos through the real middy handler; the byStatus index behind aws-sdk-client-mock.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobListSchema } from '#domain/api-schemas';
import type { JobStatus } from '#domain/video-job';
import {
  type ApiHandler,
  apiEvent,
  CALLER_OWNER,
  fieldsOf,
  invoke,
  stubApiEnvironment,
} from '#test/api/support/api-events';
import { fakeJobsTable } from '#test/api/support/fake-jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

const table = fakeJobsTable();
let handler: ApiHandler;

beforeAll(async () => {
  stubApiEnvironment();
  ({ handler } = await import('#functions/api/list-videos'));
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();
const seed: [string, JobStatus, number][] = [
  ['job-1', 'COMPLETED', 1],
  ['job-2', 'FAILED', 2],
  ['job-3', 'COMPLETED', 3],
  ['job-4', 'PROCESSING', 4],
  ['job-5', 'COMPLETED', 5],
];
beforeEach(() => {
  table.reset();
  for (const [id, status, minute] of seed)
    table.put(pendingJob(id, { owner: CALLER_OWNER, status, createdAt: at(minute) }));
});

const list = (query?: Record<string, string>) =>
  invoke(
    handler,
    apiEvent({ method: 'GET', resource: '/videos', path: '/videos', ...(query ? { query } : {}) }),
  );

const pageThrough = async (query: Record<string, string>) => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const result = await list({ ...query, ...(cursor ? { cursor } : {}) });
    expect(result.statusCode).toBe(200);
    const page = jobListSchema.parse(result.body);
    ids.push(...page.items.map((j) => j.jobId));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return ids;
};

describe('GET /videos', () => {
  it('pages through one status newest first with an opaque cursor', async () => {
    expect(await pageThrough({ status: 'COMPLETED', limit: '2' })).toEqual(['job-5', 'job-3', 'job-1']);
    for (const call of table.mock.commandCalls(QueryCommand)) {
      expect(call.args[0].input).toMatchObject({
        IndexName: 'byOwner',
        ScanIndexForward: false,
        FilterExpression: '#status = :status',
        ExpressionAttributeValues: { ':owner': CALLER_OWNER, ':status': 'COMPLETED' },
      });
    }
  });

  it("lists the caller's jobs only, with one query of the owner index per page", async () => {
    table.put(pendingJob('job-bob', { owner: 'api-key:bob', status: 'COMPLETED', createdAt: at(9) }));
    table.put(pendingJob('job-upload', { owner: 's3:uploads', status: 'COMPLETED', createdAt: at(8) }));
    table.put(pendingJob('job-legacy', { status: 'COMPLETED', createdAt: at(7) }));
    const result = await list();
    expect(result.statusCode).toBe(200);
    expect((result.body.items as { jobId: string }[]).map((j) => j.jobId)).toEqual([
      'job-5',
      'job-4',
      'job-3',
      'job-2',
      'job-1',
    ]);
    expect(table.mock.commandCalls(QueryCommand)).toHaveLength(1);
  });

  it('lists every status, newest first, without a filter', async () => {
    expect(await pageThrough({ limit: '2' })).toEqual(['job-5', 'job-4', 'job-3', 'job-2', 'job-1']);
  });

  it('answers items with a link each and a null cursor on the last page', async () => {
    const result = await list({ status: 'FAILED' });
    expect(result.body).toMatchObject({
      items: [{ jobId: 'job-2', status: 'FAILED', links: { self: '/v1/videos/job-2' } }],
      nextCursor: null,
    });
  });

  describe('refuses bad query parameters with a 400 naming each, and reads nothing', () => {
    it.each([
      ['status unknown', { status: 'DONE' }, 'status', /status must be one of PENDING/],
      ['status in lower case', { status: 'completed' }, 'status', /status must be one of/],
      ['limit zero', { limit: '0' }, 'limit', /whole number from 1 to 100/],
      ['limit above 100', { limit: '101' }, 'limit', /whole number from 1 to 100/],
      ['limit not a number', { limit: 'ten' }, 'limit', /whole number from 1 to 100/],
      ['limit a fraction', { limit: '2.5' }, 'limit', /whole number from 1 to 100/],
      ['cursor garbage', { cursor: 'not-a-cursor' }, 'cursor', /not one this API issued/],
      [
        'unknown parameter',
        { stauts: 'FAILED' },
        'stauts',
        /not a known query parameter; expected one of status/,
      ],
    ])('%s', async (_rule, query, field, message) => {
      const result = await list(query);
      expect(result.statusCode).toBe(400);
      expect(result.body.error).toMatchObject({ code: 'ValidationError' });
      expect(fieldsOf(result)).toEqual([field]);
      expect(result.raw).toMatch(message);
      expect(table.mock.commandCalls(QueryCommand)).toHaveLength(0);
    });

    it('cursor of a listing with another status', async () => {
      const first = await list({ status: 'COMPLETED', limit: '1' });
      const cursor = String(first.body.nextCursor);
      const result = await list({ status: 'FAILED', cursor });
      expect(result.statusCode).toBe(400);
      expect(fieldsOf(result)).toEqual(['cursor']);
      expect(result.raw).toMatch(/same status filter/);
    });
  });
});
