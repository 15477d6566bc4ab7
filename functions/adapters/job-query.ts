// Reads the jobs table's `byStatus` index (pk `status`, sk `createdAt`) and `byOwner` index (pk `owner`,
// sk `createdAt`), all attributes projected, one page at a time, newest first. Index reads are eventually consistent: a job created a moment ago may show
// up a moment later, and a job that just changed status may briefly appear under its old one.
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#commons/aws-clients';
import { jobsConfig } from '#commons/config';
import type { JobPage, JobPageKey, JobQuery, OwnerPage, OwnerPageKey } from '#domain/list-jobs';
import { JOB_STATUSES, type JobStatus, type VideoJob } from '#domain/video-job';

/** Must equal JOB_INDEXES.byStatus in infra/constructs/storage.ts (a test holds them together). */
export const BY_STATUS_INDEX = 'byStatus';
/** Must equal JOB_INDEXES.byOwner in infra/constructs/storage.ts (a test holds them together). */
export const BY_OWNER_INDEX = 'byOwner';

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

  async listByOwner(
    owner: string,
    options: { limit: number; status?: JobStatus; startKey?: OwnerPageKey },
  ): Promise<OwnerPage> {
    const { Items = [], LastEvaluatedKey } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: BY_OWNER_INDEX,
        KeyConditionExpression: '#owner = :owner',
        // The status filter runs on the owner's items as they are read (Limit counts items read).
        ...(options.status === undefined
          ? {
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: { ':owner': owner },
            }
          : {
              FilterExpression: '#status = :status',
              ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
              ExpressionAttributeValues: { ':owner': owner, ':status': options.status },
            }),
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.startKey === undefined ? {} : { ExclusiveStartKey: { ...options.startKey } }),
      }),
    );
    const lastKey = toOwnerKey(LastEvaluatedKey);
    return {
      jobs: (Items.filter(isListableJob) as VideoJob[]).filter((job) => job.owner === owner),
      ...(lastKey === undefined ? {} : { lastKey }),
    };
  }
}

const toOwnerKey = (key: Record<string, unknown> | undefined): OwnerPageKey | undefined => {
  if (key === undefined) return undefined;
  const { jobId, owner, createdAt } = key;
  if (typeof jobId !== 'string' || typeof owner !== 'string' || typeof createdAt !== 'string') {
    throw new Error(`unexpected LastEvaluatedKey from the ${BY_OWNER_INDEX} index: ${JSON.stringify(key)}`);
  }
  return { jobId, owner, createdAt };
};

export interface JobQueryOptions {
  client?: DynamoDBDocumentClient;
  tableName?: string;
}

export const createJobQuery = (options: JobQueryOptions = {}): JobQuery =>
  new DynamoJobQuery(
    options.client ?? dynamoDocumentClient(),
    options.tableName ?? jobsConfig().jobsTableName,
  );
