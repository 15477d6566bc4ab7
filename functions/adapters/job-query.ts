// Reads the jobs table's `byStatus` index (pk `status`, sk `createdAt`, all attributes projected) one page
// at a time, newest first. Index reads are eventually consistent: a job created a moment ago may show
// up a moment later, and a job that just changed status may briefly appear under its old one.
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#commons/aws-clients';
import { jobsConfig } from '#commons/config';
import type { JobPage, JobPageKey, JobQuery } from '#domain/list-jobs';
import { JOB_STATUSES, type JobStatus, type VideoJob } from '#domain/video-job';

/** Must equal JOB_INDEXES.byStatus in infra/constructs/storage.ts (a test holds them together). */
export const BY_STATUS_INDEX = 'byStatus';

const isJobStatus = (value: unknown): value is JobStatus =>
  (JOB_STATUSES as readonly unknown[]).includes(value);

/** Only items with the attributes a listing relies on; anything else in the index is skipped, not trusted. */
const isListableJob = (item: Record<string, unknown>): boolean =>
  typeof item.jobId === 'string' && isJobStatus(item.status) && typeof item.createdAt === 'string';

const toPageKey = (key: Record<string, unknown> | undefined): JobPageKey | undefined => {
  if (key === undefined) return undefined;
  const { jobId, status, createdAt } = key;
  if (typeof jobId !== 'string' || !isJobStatus(status) || typeof createdAt !== 'string') {
    throw new Error(`unexpected LastEvaluatedKey from the ${BY_STATUS_INDEX} index: ${JSON.stringify(key)}`);
  }
  return { jobId, status, createdAt };
};

export class DynamoJobQuery implements JobQuery {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async listByStatus(status: JobStatus, options: { limit: number; startKey?: JobPageKey }): Promise<JobPage> {
    const { Items = [], LastEvaluatedKey } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: BY_STATUS_INDEX,
        KeyConditionExpression: '#status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status },
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.startKey === undefined ? {} : { ExclusiveStartKey: { ...options.startKey } }),
      }),
    );
    const lastKey = toPageKey(LastEvaluatedKey);
    return {
      jobs: Items.filter(isListableJob) as VideoJob[],
      ...(lastKey === undefined ? {} : { lastKey }),
    };
  }
}

export interface JobQueryOptions {
  client?: DynamoDBDocumentClient;
  tableName?: string;
}

export const createJobQuery = (options: JobQueryOptions = {}): JobQuery =>
  new DynamoJobQuery(
    options.client ?? dynamoDocumentClient(),
    options.tableName ?? jobsConfig().jobsTableName,
  );
