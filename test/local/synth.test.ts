// What the local stack reads from the synthesized app: it must be able to run every Task of the real
// definition, with handlers that exist, a table shaped like the template's, and names that agree.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#commons/env';
import { LocalEventBus } from '#local/event-bus';
import { LocalLambdaRuntime } from '#local/lambda-runtime';
import { type LocalServers, startLocalServers } from '#local/servers';
import { LocalStateMachine } from '#local/state-machine';
import { type SynthesizedWorkflow, synthesizeVideoJobWorkflow } from '#local/synth';

let workflow: SynthesizedWorkflow;
let servers: LocalServers;
let dataDir: string;

beforeAll(async () => {
  workflow = synthesizeVideoJobWorkflow();
  dataDir = await mkdtemp(join(tmpdir(), 'ltx-synth-test-'));
  servers = await startLocalServers({ dataDir, tables: workflow.tables, buckets: workflow.buckets });
});

afterAll(async () => {
  await servers?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the synthesized VideoJob workflow, read for the local stack', () => {
  it('has a local implementation for every Task, and each Lambda Task names an existing handler', () => {
    const machine = new LocalStateMachine({
      definition: workflow.definition,
      name: workflow.stateMachineName,
      resources: {
        lambda: new LocalLambdaRuntime(workflow.functions),
        dynamodb: new DynamoDBClient(servers.dynamodb.clientConfig),
        events: new LocalEventBus({ account: '123456789012', region: 'us-east-1' }),
      },
      timeScale: 1,
    });
    const taskFunctions = machine.taskFunctions();
    expect(Object.keys(taskFunctions)).toEqual(
      expect.arrayContaining(['Submit', 'PollStatus', 'FetchResult', 'StoreVideo', 'RecordFailure']),
    );
    for (const fn of workflow.functions) expect(existsSync(fn.entry), fn.entry).toBe(true);
  });

  it('creates the jobs table locally with the keys and indexes of the template', async () => {
    const [logicalId, resource] =
      Object.entries(workflow.template.Resources ?? {}).find(([, r]) => r.Type === 'AWS::DynamoDB::Table') ??
      [];
    expect(logicalId).toBe(workflow.jobsTableName);
    const { Table } = await new DynamoDBClient(servers.dynamodb.clientConfig).send(
      new DescribeTableCommand({ TableName: workflow.jobsTableName }),
    );
    const props = resource?.Properties as {
      KeySchema: unknown;
      GlobalSecondaryIndexes: { IndexName: string; KeySchema: unknown }[];
    };
    expect(Table?.KeySchema).toEqual(props.KeySchema);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema]).sort()).toEqual(
      props.GlobalSecondaryIndexes.map((i) => [i.IndexName, i.KeySchema]).sort(),
    );
  });

  it("gives the handlers the template's environment with local names, and no secret to look up", () => {
    expect(workflow.environment[ENV.jobsTable]).toBe(workflow.jobsTableName);
    expect(workflow.environment[ENV.segmindApiKeySecret]).toBeUndefined();
    expect(workflow.buckets).toContain(workflow.videosBucketName);
  });
});

describe('local S3 with the local client settings', () => {
  it('stores a streamed multipart upload byte for byte', async () => {
    const client = new S3Client(servers.s3.clientConfig);
    const body = randomBytes(6 * 1024 * 1024 + 123);
    await new Upload({
      client,
      params: { Bucket: workflow.videosBucketName, Key: 'videos/streamed.bin', Body: Readable.from([body]) },
      partSize: 5 * 1024 * 1024,
    }).done();
    const { Body } = await client.send(
      new GetObjectCommand({ Bucket: workflow.videosBucketName, Key: 'videos/streamed.bin' }),
    );
    expect(Buffer.from((await Body?.transformToByteArray()) ?? []).equals(body)).toBe(true);
    client.destroy();
  });
});
