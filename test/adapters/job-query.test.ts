// The byStatus listing against a real (local) DynamoDB index, through the domain's paging.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BY_STATUS_INDEX, createJobQuery } from '#adapters/job-query';
import { listJobs } from '#domain/list-jobs';
import type { VideoJob } from '#domain/video-job';
import { JOB_INDEXES } from '#infra/constructs/storage';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { pendingJob } from '#test/support/workflow-fakes';

let table: JobsTable;
const at = (second: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString();
const jobs: VideoJob[] = [
  pendingJob('job-a', { status: 'COMPLETED', createdAt: at(1) }),
  pendingJob('job-b', { status: 'FAILED', createdAt: at(2) }),
  pendingJob('job-c', { status: 'COMPLETED', createdAt: at(3) }),
  pendingJob('job-d', { status: 'PENDING', createdAt: at(4) }),
  pendingJob('job-e', { status: 'COMPLETED', createdAt: at(5) }),
];

beforeAll(async () => {
  table = await startJobsTable();
  for (const job of jobs) await table.client.send(new PutCommand({ TableName: table.tableName, Item: job }));
});
afterAll(async () => {
  await table?.close();
});

const query = () => createJobQuery({ client: table.client, tableName: table.tableName });

describe('DynamoJobQuery', () => {
  it('reads the index the storage construct defines', () => {
    expect(BY_STATUS_INDEX).toBe(JOB_INDEXES.byStatus);
  });

  it('lists one status newest first, resuming after the key it returned', async () => {
    const first = await query().listByStatus('COMPLETED', { limit: 2 });
    expect(first.jobs.map((j) => j.jobId)).toEqual(['job-e', 'job-c']);
    expect(first.lastKey).toEqual({ jobId: 'job-c', status: 'COMPLETED', createdAt: at(3) });

    const second = await query().listByStatus('COMPLETED', {
      limit: 2,
      ...(first.lastKey ? { startKey: first.lastKey } : {}),
    });
    expect(second.jobs.map((j) => j.jobId)).toEqual(['job-a']);
    expect(second.lastKey).toBeUndefined();
  });

  it('pages through all statuses with opaque cursors', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listJobs(query(), { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.jobs.map((j) => j.jobId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(['job-e', 'job-d', 'job-c', 'job-b', 'job-a']);
  });
});
