// A real jobs table for tests: dynalite in this process on 127.0.0.1, an ephemeral port, and a document
// client configured like the Lambdas' own (undefined attributes dropped).
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandOutput,
  PutCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

export interface JobsTable {
  tableName: string;
  /** The request-budget table (partition key `budgetId`), created beside the jobs table. */
  budgetTableName: string;
  clientConfig: DynamoDBClientConfig;
  client: DynamoDBDocumentClient;
  /** Writes a job item as it is (the arrange step of a test). */
  putJob(item: PutCommandInput['Item']): Promise<void>;
  /** The job item as stored, or undefined. */
  getJob(jobId: string): Promise<GetCommandOutput['Item']>;
  close(): Promise<void>;
}

export const startJobsTable = async (tableName = 'jobs'): Promise<JobsTable> => {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const clientConfig: DynamoDBClientConfig = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const raw = new DynamoDBClient(clientConfig);
  // The table as the CDK stack defines it: key jobId, and the byStatus index the API lists with.
  await raw.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'jobId', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  // Beside it, the request budget the Segmind-calling handlers draw on (as in the stack).
  const budgetTableName = `${tableName}-request-budget`;
  await raw.send(
    new CreateTableCommand({
      TableName: budgetTableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'budgetId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'budgetId', KeyType: 'HASH' }],
    }),
  );
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return {
    tableName,
    budgetTableName,
    clientConfig,
    client,
    putJob: async (item) => {
      await client.send(new PutCommand({ TableName: tableName, Item: item }));
    },
    getJob: async (jobId) =>
      (await client.send(new GetCommand({ TableName: tableName, Key: { jobId } }))).Item,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
};
