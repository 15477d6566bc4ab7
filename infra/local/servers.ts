// Local stand-ins for DynamoDB (dynalite) and S3 (s3rver): real HTTP servers in this process, bound to
// loopback on free ports, reached through the ordinary SDK clients with an endpoint override.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { LOCAL_REGION } from '#local/template';

/** s3rver accepts only these; dynalite accepts anything. Never real credentials. */
export const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface LocalServersOptions {
  /** S3 objects live under `<dataDir>/s3`; with `persistent`, DynamoDB under `<dataDir>/dynamodb`. */
  dataDir: string;
  /** Keep DynamoDB items on disk across runs (the CLI); in memory otherwise (tests). */
  persistent?: boolean;
  tables?: readonly CreateTableCommandInput[];
  buckets?: readonly string[];
}

export interface LocalServerCounters {
  /** DynamoDB requests by operation (PutItem, UpdateItem, GetItem, …). */
  dynamodb: Record<string, number>;
  /** PutItem + UpdateItem + DeleteItem + BatchWriteItem + TransactWriteItems requests. */
  dynamodbWrites: number;
  /** S3 requests by HTTP method. */
  s3: Record<string, number>;
}

export interface LocalServers {
  s3: {
    endpoint: string;
    clientConfig: S3ClientConfig;
    /**
     * s3rver's in-process notifications (Put, Post = multipart complete, Copy, Delete), each an S3 event
     * `{Records: [...]}`; the returned function unsubscribes. The uploads watcher turns them into EventBridge events.
     */
    onEvent(listener: (event: unknown) => void): () => void;
  };
  /** `persistent` is false when asked for but another process holds the data directory (kept in memory then). */
  dynamodb: { endpoint: string; clientConfig: DynamoDBClientConfig; persistent: boolean };
  /** Cumulative since start; take differences around one job to get per-job figures. */
  counters(): LocalServerCounters;
  stop(): Promise<void>;
}

const DYNAMODB_WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

export const startLocalServers = async (options: LocalServersOptions): Promise<LocalServers> => {
  const dynamodbCounts: Record<string, number> = {};
  const s3Counts: Record<string, number> = {};

  const s3Directory = join(options.dataDir, 's3');
  await mkdir(s3Directory, { recursive: true });
  let dynamoPath: string | undefined;
  let releaseLock = (): void => undefined;
  if (options.persistent) {
    const release = lockDirectory(join(options.dataDir, 'dynamodb.lock'));
    if (release) {
      releaseLock = release;
      dynamoPath = join(options.dataDir, 'dynamodb');
      await mkdir(dynamoPath, { recursive: true });
    } else {
      process.emitWarning(
        `another process is using ${join(options.dataDir, 'dynamodb')}; this run keeps its job records in memory`,
      );
    }
  }

  const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: dynamoPath });
  dynamoServer.on('request', (request: IncomingMessage) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.indexOf('.') + 1) || 'unknown';
    dynamodbCounts[operation] = (dynamodbCounts[operation] ?? 0) + 1;
  });
  const dynamoPort = await listen(dynamoServer);

  const s3Server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory: s3Directory,
    silent: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  let s3Port: number;
  try {
    s3Port = (await s3Server.run()).port;
  } catch (error) {
    await closeServer(dynamoServer);
    releaseLock();
    throw error;
  }
  s3Server.httpServer?.on('request', (request: IncomingMessage) => {
    const method = request.method ?? 'unknown';
    s3Counts[method] = (s3Counts[method] ?? 0) + 1;
  });

  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  const dynamoConfig: DynamoDBClientConfig = {
    endpoint: dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
  };
  const s3Config: S3ClientConfig = {
    endpoint: s3Endpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: { ...LOCAL_CREDENTIALS },
    // Without these two, the SDK streams aws-chunked bodies that s3rver 3.7.1 stores verbatim (corrupt
    // objects, 200 OK). Local wiring only: the AWS code path keeps the SDK's defaults.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };

  const stop = async (): Promise<void> => {
    await Promise.allSettled([closeServer(dynamoServer), closeS3(s3Server)]);
    releaseLock();
  };

  try {
    const admin = new DynamoDBClient(dynamoConfig);
    try {
      for (const table of options.tables ?? []) await ensureTable(admin, table);
    } finally {
      admin.destroy();
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    s3: {
      endpoint: s3Endpoint,
      clientConfig: s3Config,
      onEvent: (listener) => {
        s3Server.on('event', listener);
        return () => {
          s3Server.off('event', listener);
        };
      },
    },
    dynamodb: { endpoint: dynamoEndpoint, clientConfig: dynamoConfig, persistent: dynamoPath !== undefined },
    counters: () => ({
      dynamodb: { ...dynamodbCounts },
      dynamodbWrites: Object.entries(dynamodbCounts)
        .filter(([operation]) => DYNAMODB_WRITES.has(operation))
        .reduce((sum, [, count]) => sum + count, 0),
      s3: { ...s3Counts },
    }),
    stop,
  };
};

/**
 * Creates the table, or keeps an existing one (persistent data) when its keys and indexes still match the
 * template. A table from an older template is recreated: local data is disposable, a confusing
 * ValidationException on the first query is not.
 */
const ensureTable = async (client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> => {
  const existing = await describeTable(client, input.TableName ?? '');
  if (existing) {
    if (sameShape(existing, input)) return;
    process.emitWarning(
      `local table ${input.TableName} no longer matches the template; recreating it (empty)`,
    );
    await client.send(new DeleteTableCommand({ TableName: input.TableName }));
  }
  await client.send(new CreateTableCommand(input));
};

const describeTable = async (client: DynamoDBClient, name: string): Promise<TableDescription | undefined> => {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
};

const sameShape = (table: TableDescription, input: CreateTableCommandInput): boolean => {
  const keys = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    JSON.stringify((schema ?? []).map((key) => [key.AttributeName, key.KeyType]));
  const indexes = (
    list: { IndexName?: string; KeySchema?: { AttributeName?: string; KeyType?: string }[] }[],
  ) => JSON.stringify(list.map((index) => [index.IndexName, keys(index.KeySchema)]).sort());
  return (
    keys(table.KeySchema) === keys(input.KeySchema) &&
    indexes(table.GlobalSecondaryIndexes ?? []) === indexes(input.GlobalSecondaryIndexes ?? []) &&
    indexes(table.LocalSecondaryIndexes ?? []) === indexes(input.LocalSecondaryIndexes ?? [])
  );
};

/**
 * LevelDB allows one process per directory, and dynalite crashes the process when it finds the directory
 * locked. A lock file with our pid keeps a second local stack out; one left by a dead process is taken over.
 */
const lockDirectory = (lockFile: string): (() => void) | undefined => {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          unlinkSync(lockFile);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8'));
      if (isAlive(holder)) return undefined;
      unlinkSync(lockFile);
    }
  }
  return undefined;
};

const isAlive = (pid: number): boolean => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const listen = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets of the SDK clients would otherwise hold close() open until they time out.
    server.closeAllConnections();
  });

const closeS3 = async (server: S3rver): Promise<void> => {
  const http = server.httpServer;
  if (!http) return;
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
};
