// The batch record in DynamoDB: one item per batch in the batches table, keyed by `batchId`. Kept apart
// from the jobs table so that listing jobs (by status) never meets a batch, and a batch never needs the
// job record's shape; the jobs of a batch are found through the jobs table's `byBatch` index.
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchConfig } from '#adapters/batch-config';
import { dynamoDocumentClient } from '#commons/aws-clients';
import type { S3Location } from '#domain/batch-manifest';
import { type BatchRecord, type BatchRunStart, type BatchStore, RECORDED_FAILURES } from '#domain/batch-run';
import type { BatchSummary } from '#domain/batch-summary';

/** `#name` for every attribute (`status` and `error` are reserved words), `:name` for every value. */
const setExpression = (values: Record<string, unknown>) => ({
  clauses: Object.keys(values).map((name) => `#${name} = :${name}`),
  names: Object.fromEntries(Object.keys(values).map((name) => [`#${name}`, name])),
  values: Object.fromEntries(Object.entries(values).map(([name, value]) => [`:${name}`, value])),
});

export class DynamoBatchStore implements BatchStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async markRunning(start: BatchRunStart): Promise<BatchRecord> {
    const at = start.at.toISOString();
    const set = setExpression({
      status: 'RUNNING',
      manifest: start.manifest,
      lines: start.lines,
      lineCount: start.lineCount,
      runnable: start.runnable,
      rejected: start.rejected,
      startedAt: at,
      updatedAt: at,
    });
    // A rerun starts from a clean slate: the previous run's outcome no longer describes the batch.
    const cleared = ['finishedAt', 'counts', 'failureCount', 'failures', 'summary', 'error'];
    const { Attributes } = await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: { batchId: start.batchId },
        UpdateExpression:
          `SET ${set.clauses.join(', ')}, #runs = if_not_exists(#runs, :zero) + :one ` +
          `REMOVE ${cleared.map((name) => `#${name}`).join(', ')}`,
        ExpressionAttributeNames: {
          ...set.names,
          '#runs': 'runs',
          ...Object.fromEntries(cleared.map((name) => [`#${name}`, name])),
        },
        ExpressionAttributeValues: { ...set.values, ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as BatchRecord;
  }

  async recordSummary(summary: BatchSummary, location: S3Location, at: Date): Promise<void> {
    const set = setExpression({
      status: summary.status,
      lineCount: summary.lineCount,
      counts: summary.counts,
      failureCount: summary.failures.length,
      failures: summary.failures.slice(0, RECORDED_FAILURES),
      summary: location,
      finishedAt: summary.finishedAt,
      updatedAt: at.toISOString(),
      ...(summary.error === undefined ? {} : { error: summary.error }),
    });
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: { batchId: summary.batchId },
        UpdateExpression: `SET ${set.clauses.join(', ')}${summary.error === undefined ? ' REMOVE #error' : ''}`,
        ExpressionAttributeNames: { ...set.names, '#error': 'error' },
        ExpressionAttributeValues: set.values,
      }),
    );
  }

  async get(batchId: string): Promise<BatchRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { batchId }, ConsistentRead: true }),
    );
    return Item as BatchRecord | undefined;
  }
}

/** The store the Lambdas use: the shared per-container client and the table from BATCHES_TABLE_NAME. */
export const createBatchStore = (
  options: { client?: DynamoDBDocumentClient; tableName?: string } = {},
): DynamoBatchStore =>
  new DynamoBatchStore(
    options.client ?? dynamoDocumentClient(),
    options.tableName ?? batchConfig().batchesTableName,
  );
