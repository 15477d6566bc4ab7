// Reads the job records of a batch's lines in bulk: BatchGetItem, 100 keys a request, strongly consistent
// (the summary runs right after the last child ended; an index could still lag), only the attributes the
// summary reports. Keys DynamoDB leaves unprocessed (throttling) are asked for again with backoff.
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchConfig } from '#adapters/batch-config';
import { dynamoDocumentClient } from '#commons/aws-clients';
import type { BatchJobOutcome, BatchJobs } from '#domain/batch-run';

/** BatchGetItem's own limit. */
const KEYS_PER_REQUEST = 100;
const MAX_ROUNDS = 8;

type Key = Record<string, unknown>;

export class DynamoBatchJobs implements BatchJobs {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #pauseMs: (round: number) => number;

  constructor(
    client: DynamoDBDocumentClient,
    tableName: string,
    pauseMs = (round: number) => 50 * 2 ** round,
  ) {
    this.#client = client;
    this.#tableName = tableName;
    this.#pauseMs = pauseMs;
  }

  async get(jobIds: readonly string[]): Promise<Map<string, BatchJobOutcome>> {
    const found = new Map<string, BatchJobOutcome>();
    const unique = [...new Set(jobIds)];
    for (let start = 0; start < unique.length; start += KEYS_PER_REQUEST) {
      let keys: Key[] = unique.slice(start, start + KEYS_PER_REQUEST).map((jobId) => ({ jobId }));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round === MAX_ROUNDS) {
          throw new Error(`DynamoDB left ${keys.length} job records unread after ${MAX_ROUNDS} rounds`);
        }
        if (round > 0) await sleep(this.#pauseMs(round));
        const { Responses, UnprocessedKeys } = await this.#client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.#tableName]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#jobId, #status, #errorCode, #errorMessage',
                ExpressionAttributeNames: {
                  '#jobId': 'jobId',
                  '#status': 'status',
                  '#errorCode': 'errorCode',
                  '#errorMessage': 'errorMessage',
                },
              },
            },
          }),
        );
        for (const item of Responses?.[this.#tableName] ?? []) {
          if (typeof item.jobId === 'string') found.set(item.jobId, item as BatchJobOutcome);
        }
        keys = (UnprocessedKeys?.[this.#tableName]?.Keys ?? []) as Key[];
      }
    }
    return found;
  }
}

export const createBatchJobs = (
  options: { client?: DynamoDBDocumentClient; tableName?: string } = {},
): DynamoBatchJobs =>
  new DynamoBatchJobs(
    options.client ?? dynamoDocumentClient(),
    options.tableName ?? batchConfig().jobsTableName,
  );
