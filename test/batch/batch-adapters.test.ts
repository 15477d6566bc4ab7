// The batch adapters against mocked SDK clients: the manifest streamed line by line, a missing or huge
// manifest refused as the batch's input error, the lines file read back checked, job records read in
// chunks of 100 with unprocessed keys asked for again, and the batch record's rerun reset.
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES, S3BatchFiles } from '#adapters/batch-files';
import { DynamoBatchJobs } from '#adapters/batch-jobs';
import { DynamoBatchStore } from '#adapters/batch-store';
import { BatchInputError } from '#domain/batch-manifest';

const s3Client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(s3Client);
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(documentClient);

afterEach(() => {
  s3.reset();
  ddb.reset();
});

/** A GetObject body as the SDK gives it: a stream that can also be read whole. */
const body = (text: string) =>
  Object.assign(Readable.from([Buffer.from(text)]), {
    transformToString: async () => text,
    transformToByteArray: async () => new Uint8Array(Buffer.from(text)),
    transformToWebStream: () => {
      throw new Error('not used');
    },
  });
const location = { bucket: 'videos', key: 'manifests/a.jsonl' };

const collect = async (lines: AsyncIterable<string>): Promise<string[]> => {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
};

describe('S3BatchFiles', () => {
  it('streams the manifest line by line, CRLF or LF, blank lines kept for numbering', async () => {
    s3.on(GetObjectCommand, { Bucket: 'videos', Key: 'manifests/a.jsonl' }).resolves({
      Body: body('{"prompt":"a"}\r\n\r\n{"prompt":"b"}\n'),
      ContentLength: 35,
    });
    expect(await collect(new S3BatchFiles(s3Client).readManifest(location))).toEqual([
      '{"prompt":"a"}',
      '',
      '{"prompt":"b"}',
    ]);
  });

  it('reads the version it was given', async () => {
    s3.on(GetObjectCommand, { VersionId: 'v7' }).resolves({
      Body: body('{"prompt":"v7"}'),
      ContentLength: 15,
    });
    const lines = await collect(new S3BatchFiles(s3Client).readManifest({ ...location, versionId: 'v7' }));
    expect(lines).toEqual(['{"prompt":"v7"}']);
  });

  it('refuses a manifest that does not exist, or is too large, as the batch input error', async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: {}, message: 'nope' }),
    );
    await expect(collect(new S3BatchFiles(s3Client).readManifest(location))).rejects.toThrow(
      new BatchInputError('the manifest s3://videos/manifests/a.jsonl does not exist'),
    );
    s3.reset();
    s3.on(GetObjectCommand).resolves({ Body: body(''), ContentLength: MAX_MANIFEST_BYTES + 1 });
    await expect(collect(new S3BatchFiles(s3Client).readManifest(location))).rejects.toThrow(BatchInputError);
  });

  it('writes the lines file as JSON Lines and reads it back, checked', async () => {
    const files = new S3BatchFiles(s3Client);
    const lines = [
      {
        line: 1,
        jobId: 'batch-b-1',
        request: { prompt: 'a', duration: 8, resolution: '2k', generateAudio: true },
      },
      { line: 2, rejected: { errorCode: 'InvalidManifestLineError', errorMessage: 'not valid JSON' } },
    ] as const;
    s3.on(PutObjectCommand).resolves({});
    await files.writeLines({ bucket: 'videos', key: 'batches/b/lines.jsonl' }, lines);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: 'videos',
      Key: 'batches/b/lines.jsonl',
      ContentType: 'application/jsonl',
    });
    const text = String(put?.Body);
    expect(text.split('\n')).toHaveLength(3);

    s3.on(GetObjectCommand).resolves({ Body: body(text) });
    expect(await files.readLines({ bucket: 'videos', key: 'batches/b/lines.jsonl' })).toEqual(lines);

    s3.on(GetObjectCommand).resolves({ Body: body('{"line": 0, "jobId": "x"}\n') });
    await expect(files.readLines({ bucket: 'videos', key: 'batches/b/lines.jsonl' })).rejects.toThrow(
      /row 1 is not a batch line/,
    );
  });
});

describe('DynamoBatchJobs', () => {
  it('reads records in chunks of 100, consistently, asking again for unprocessed keys', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `batch-b-${i + 1}`);
    let unprocessedOnce = true;
    ddb
      .on(BatchGetCommand)
      .callsFake((input: { RequestItems: Record<string, { Keys: { jobId: string }[] }> }) => {
        const keys = input.RequestItems.jobs?.Keys ?? [];
        const [first, ...rest] = keys;
        if (unprocessedOnce && first !== undefined) {
          unprocessedOnce = false;
          return {
            Responses: { jobs: rest.map(({ jobId }) => ({ jobId, status: 'COMPLETED' })) },
            UnprocessedKeys: { jobs: { Keys: [first] } },
          };
        }
        return { Responses: { jobs: keys.map(({ jobId }) => ({ jobId, status: 'COMPLETED' })) } };
      });
    const found = await new DynamoBatchJobs(documentClient, 'jobs', () => 0).get([...ids, 'batch-b-1']);
    expect([...found.keys()].sort()).toEqual([...ids].sort());
    const calls = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.jobs);
    expect(calls.map((c) => c?.Keys?.length)).toEqual([100, 1, 50]);
    expect(calls.every((c) => c?.ConsistentRead === true)).toBe(true);
  });

  it('gives up, loudly, when keys stay unprocessed', async () => {
    ddb
      .on(BatchGetCommand)
      .resolves({ Responses: { jobs: [] }, UnprocessedKeys: { jobs: { Keys: [{ jobId: 'x' }] } } });
    await expect(new DynamoBatchJobs(documentClient, 'jobs', () => 0).get(['x'])).rejects.toThrow(/unread/);
  });
});

describe('DynamoBatchStore', () => {
  it('marks a (re)run RUNNING, counting runs and clearing the previous outcome', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { batchId: 'b', status: 'RUNNING', runs: 2 } });
    const record = await new DynamoBatchStore(documentClient, 'batches').markRunning({
      batchId: 'b',
      manifest: location,
      lines: { bucket: 'videos', key: 'batches/b/lines.jsonl' },
      lineCount: 3,
      runnable: 2,
      rejected: 1,
      at: new Date('2030-01-01T00:00:00Z'),
    });
    expect(record).toMatchObject({ status: 'RUNNING', runs: 2 });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ batchId: 'b' });
    expect(input?.UpdateExpression).toMatch(/#runs = if_not_exists\(#runs, :zero\) \+ :one/);
    expect(input?.UpdateExpression).toMatch(/REMOVE .*#failures.*#summary/);
  });
});
