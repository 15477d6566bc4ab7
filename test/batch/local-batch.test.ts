// A batch end to end on the local stack: the synthesized batch state machine (its Distributed Map's reader
// mapped to local S3), 47 real child VideoJob executions against the emulator, the summary in S3 and on
// the batch record — and a rerun that starts nothing new.
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VideoJob } from '#domain/video-job';
import { JOB_INDEXES } from '#infra/constructs/storage';
import { BATCH_STATES } from '#infra/constructs/video-batch';
import {
  batchDefinitionOf,
  itemReaderStateOf,
  type LocalBatchRun,
  localBatchDefinition,
  requestShapes,
  runLocalBatch,
} from '#local/batch-runner';
import type { LocalStack } from '#local/stack';
import { emulatorOf, readObject, startTestStack } from '#test/workflow/support/local-stack';

const INVALID: Record<number, string> = {
  7: '{"prompt": "a heron", "duration": ',
  23: '{"prompt": "   "}',
  41: '{"prompt": "a lighthouse at dusk", "duration": 7}',
};
const MANIFEST = Array.from({ length: 50 }, (_, i) => {
  const line = i + 1;
  return (
    INVALID[line] ??
    JSON.stringify({
      prompt: `scene ${line}: waves on a rocky shore`,
      resolution: '1080p',
      duration: 6,
      generateAudio: line % 2 === 0,
    })
  );
});

let stack: LocalStack;
let first: LocalBatchRun;

beforeAll(async () => {
  stack = await startTestStack({ timeScale: 200, emulatorOptions: { credits: 10_000 } });
  // Render each shape's MP4 once up front: at this time scale ffmpeg would otherwise hold the first jobs.
  await emulatorOf(stack).prepareVideos(requestShapes(MANIFEST));
  first = await runLocalBatch(stack, { lines: MANIFEST, batchId: 'shore' });
});

afterAll(async () => {
  await stack?.stop();
});

const batchJobs = async (batchId: string): Promise<VideoJob[]> => {
  const { Items = [] } = await DynamoDBDocumentClient.from(stack.dynamo.client).send(
    new QueryCommand({
      TableName: stack.dynamo.jobsTable,
      IndexName: JOB_INDEXES.byBatch,
      KeyConditionExpression: 'batchId = :b',
      ExpressionAttributeValues: { ':b': batchId },
    }),
  );
  return Items as VideoJob[];
};

describe('a 50-line batch with 3 invalid lines', () => {
  it('completes the 47 valid lines and reports the 3 invalid ones with their line numbers and reasons', () => {
    expect(first.status).toBe('SUCCEEDED');
    const summary = first.summary;
    expect(summary).toMatchObject({
      batchId: 'shore',
      status: 'COMPLETED_WITH_FAILURES',
      lineCount: 50,
      counts: { COMPLETED: 47, INVALID: 3 },
    });
    expect(summary?.failures).toEqual([
      {
        line: 7,
        status: 'INVALID',
        errorCode: 'InvalidManifestLineError',
        reason: expect.stringMatching(/^not valid JSON/),
      },
      {
        line: 23,
        status: 'INVALID',
        errorCode: 'InvalidVideoRequestError',
        reason: expect.stringContaining('prompt must not be empty'),
      },
      {
        line: 41,
        status: 'INVALID',
        errorCode: 'InvalidVideoRequestError',
        reason: expect.stringContaining('duration must be one of 6, 8, 10'),
      },
    ]);
    expect(summary?.jobs).toHaveLength(47);
    expect(emulatorOf(stack).control.counters().jobsCreated).toBe(47);
  });

  it('writes the summary to S3 and to the batch record', async () => {
    const location = first.summaryLocation;
    if (!location) throw new Error('no summary location');
    expect(location.key).toBe('batches/shore/summary.json');
    const stored = JSON.parse((await readObject(stack, location.bucket, location.key)).toString('utf8'));
    expect(stored).toEqual(first.summary);
    expect(first.record).toMatchObject({
      batchId: 'shore',
      status: 'COMPLETED_WITH_FAILURES',
      lineCount: 50,
      runnable: 47,
      rejected: 3,
      runs: 1,
      counts: { COMPLETED: 47, INVALID: 3 },
      failureCount: 3,
      summary: location,
    });
  });

  it('gives each line a job named after batch + line, in the batch (byBatch index), with its video stored', async () => {
    const jobs = await batchJobs('shore');
    expect(jobs).toHaveLength(47);
    const expectedIds = MANIFEST.flatMap((_, i) => (INVALID[i + 1] ? [] : [`batch-shore-${i + 1}`]));
    expect(jobs.map((job) => job.jobId).sort()).toEqual(expectedIds.sort());
    for (const job of jobs) {
      expect(job, job.jobId).toMatchObject({ status: 'COMPLETED', source: 'batch', batchId: 'shore' });
      expect(job.video?.key, job.jobId).toEqual(expect.any(String));
    }
  });

  it('never has more jobs in flight than the state machine’s MaxConcurrency', () => {
    const map = batchDefinitionOf(stack).States[BATCH_STATES.runBatchLines];
    const limit = Number(map?.MaxConcurrency);
    expect(first.stats.maxConcurrency).toBe(limit);
    const { maxConcurrentJobs } = emulatorOf(stack).control.counters();
    expect(maxConcurrentJobs).toBeLessThanOrEqual(limit);
    expect(first.stats.maxRunningChildren).toBeLessThanOrEqual(limit);
    // …and the limit was actually reached, so the bound above is not vacuous.
    expect(first.stats.maxRunningChildren).toBe(limit);
    expect(first.stats.childrenStarted).toBe(47);
  });

  it('starts no new Segmind job when the same batch runs again', async () => {
    const before = emulatorOf(stack).control.counters();
    const again = await runLocalBatch(stack, { lines: MANIFEST, batchId: 'shore' });
    const after = emulatorOf(stack).control.counters();

    expect(after.jobsCreated).toBe(before.jobsCreated);
    expect(after.byEndpoint.submit ?? 0).toBe(before.byEndpoint.submit ?? 0);
    expect(again.stats).toMatchObject({ childrenStarted: 0, childrenExisting: 47 });
    expect(again.summary?.counts).toEqual({ COMPLETED: 47, INVALID: 3 });
    expect(again.record).toMatchObject({ runs: 2, status: 'COMPLETED_WITH_FAILURES' });
  });
});

describe('the local mapping of the Distributed Map', () => {
  it('puts a reader of the same object in front of the map, and changes nothing else', () => {
    const original = batchDefinitionOf(stack);
    const local = localBatchDefinition(original, { concurrency: 7 }) as unknown as typeof original;
    const name = BATCH_STATES.runBatchLines;
    const reader = itemReaderStateOf(name);
    const map = original.States[name] as unknown as Record<string, unknown> & {
      ItemReader: { Resource: string; Parameters: object; ReaderConfig: object };
    };

    expect(local.States[BATCH_STATES.prepareBatch]?.Next).toBe(reader);
    expect(local.States[reader]).toMatchObject({
      Type: 'Task',
      Resource: map.ItemReader.Resource,
      Parameters: { ...map.ItemReader.Parameters, ReaderConfig: map.ItemReader.ReaderConfig },
      ResultPath: null,
      Catch: map.Catch,
      Next: name,
    });
    const { ItemReader: _, MaxConcurrency: __, ...rest } = map;
    expect(local.States[name]).toEqual({
      ...rest,
      ItemsPath: `$$.LocalItemReader.${name}`,
      MaxConcurrency: 7,
    });
    for (const [state, definition] of Object.entries(original.States)) {
      if (state !== name && state !== BATCH_STATES.prepareBatch)
        expect(local.States[state], state).toEqual(definition);
    }
    // The interpreter accepts it as a valid state machine.
    expect(() => new StateMachine(local as never)).not.toThrow();
  });

  it('fails the batch, summarizing nothing, when its input is unusable', async () => {
    const run = await runLocalBatch(stack, { lines: ['', '  '], batchId: 'empty' });
    expect(run).toMatchObject({ status: 'FAILED', error: 'BatchInputError' });
    expect(run.cause).toMatch(/has no requests/);
    expect(run.summary).toBeUndefined();
    expect(run.record).toBeUndefined();
  });
});
