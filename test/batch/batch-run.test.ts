// prepareBatch and finishBatch against in-memory ports: what the map gets to read, what the summary and
// the batch record say, and that an unusable batch input starts (and writes) nothing.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BatchInputError,
  type BatchLine,
  MAX_BATCH_LINES,
  type ManifestLocation,
  type S3Location,
} from '#domain/batch-manifest';
import {
  type BatchFiles,
  type BatchJobOutcome,
  type BatchRecord,
  type BatchRunStart,
  type BatchStore,
  finishBatch,
  prepareBatch,
  RECORDED_FAILURES,
} from '#domain/batch-run';
import type { BatchSummary } from '#domain/batch-summary';

const BUCKET = 'videos';
const NOW = new Date('2030-01-01T00:00:00Z');

class MemoryFiles implements BatchFiles {
  readonly objects = new Map<string, string>();
  async *readManifest(location: ManifestLocation): AsyncIterable<string> {
    const text = this.objects.get(`${location.bucket}/${location.key}`);
    if (text === undefined)
      throw new BatchInputError(`the manifest s3://${location.bucket}/${location.key} does not exist`);
    yield* text.split('\n');
  }
  async writeLines(location: S3Location, lines: readonly BatchLine[]): Promise<void> {
    this.objects.set(`${location.bucket}/${location.key}`, lines.map((l) => JSON.stringify(l)).join('\n'));
  }
  async readLines(location: S3Location): Promise<BatchLine[]> {
    const text = this.objects.get(`${location.bucket}/${location.key}`) ?? '';
    return text.split('\n').map((row) => JSON.parse(row) as BatchLine);
  }
  async writeSummary(location: S3Location, summary: BatchSummary): Promise<void> {
    this.objects.set(`${location.bucket}/${location.key}`, JSON.stringify(summary));
  }
}

class MemoryBatches implements BatchStore {
  readonly records = new Map<string, BatchRecord>();
  async markRunning(start: BatchRunStart): Promise<BatchRecord> {
    const { at, ...rest } = start;
    const record: BatchRecord = {
      ...rest,
      status: 'RUNNING',
      startedAt: at.toISOString(),
      updatedAt: at.toISOString(),
      runs: (this.records.get(start.batchId)?.runs ?? 0) + 1,
    };
    this.records.set(start.batchId, record);
    return record;
  }
  async recordSummary(summary: BatchSummary, location: S3Location): Promise<void> {
    const record = this.records.get(summary.batchId);
    if (!record) throw new Error('no record');
    this.records.set(summary.batchId, {
      ...record,
      status: summary.status,
      counts: summary.counts,
      failureCount: summary.failures.length,
      failures: summary.failures.slice(0, RECORDED_FAILURES),
      summary: location,
      finishedAt: summary.finishedAt,
    });
  }
  async get(batchId: string): Promise<BatchRecord | undefined> {
    return this.records.get(batchId);
  }
}

let files: MemoryFiles;
let batches: MemoryBatches;
const deps = () => ({ files, batches, bucket: BUCKET, now: () => NOW });
const manifest = (key = 'manifests/a.jsonl') => ({ bucket: BUCKET, key });
const put = (text: string, key = 'manifests/a.jsonl') => files.objects.set(`${BUCKET}/${key}`, text);

beforeEach(() => {
  files = new MemoryFiles();
  batches = new MemoryBatches();
});

describe('prepareBatch', () => {
  it('writes one row per non-blank line, numbered as in the file, and marks the batch RUNNING', async () => {
    put(['{"prompt":"one"}', '', 'oops', '   ', '{"prompt":"four","duration":6}', ''].join('\n'));
    const prepared = await prepareBatch({ batchId: 'b1', manifest: manifest() }, deps());

    expect(prepared).toEqual({
      batchId: 'b1',
      manifest: manifest(),
      lines: { bucket: BUCKET, key: 'batches/b1/lines.jsonl' },
      lineCount: 3,
      runnable: 2,
      rejected: 1,
      startedAt: NOW.toISOString(),
    });
    const rows = await files.readLines(prepared.lines);
    expect(rows.map((row) => [row.line, 'jobId' in row ? row.jobId : row.rejected.errorCode])).toEqual([
      [1, 'batch-b1-1'],
      [3, 'InvalidManifestLineError'],
      [5, 'batch-b1-5'],
    ]);
    expect(batches.records.get('b1')).toMatchObject({
      status: 'RUNNING',
      lineCount: 3,
      runnable: 2,
      runs: 1,
    });
  });

  it("names a scheduled batch after Scheduler's scheduled time", async () => {
    put('{"prompt":"x"}');
    const prepared = await prepareBatch({ batchId: '2026-03-01T06:30:00Z', manifest: manifest() }, deps());
    expect(prepared.batchId).toBe('20260301T063000Z');
    expect(await files.readLines(prepared.lines)).toMatchObject([{ jobId: 'batch-20260301T063000Z-1' }]);
  });

  it.each([
    ['a manifest in another bucket', { bucket: 'elsewhere', key: 'manifests/a.jsonl' }, /manifest.bucket/],
    [
      'a manifest outside manifests/',
      manifest('batches/x/lines.jsonl'),
      /manifest.key must be under manifests\//,
    ],
    ['a manifest that does not exist', manifest('manifests/missing.jsonl'), /does not exist/],
  ])('refuses %s, writing nothing', async (_, location, message) => {
    put('{"prompt":"x"}');
    const before = files.objects.size;
    await expect(prepareBatch({ batchId: 'b1', manifest: location }, deps())).rejects.toThrow(message);
    expect(files.objects.size).toBe(before);
    expect(batches.records.size).toBe(0);
  });

  it('refuses an empty manifest and one with too many requests', async () => {
    put('\n\n  \n');
    await expect(prepareBatch({ batchId: 'b1', manifest: manifest() }, deps())).rejects.toThrow(
      /has no requests/,
    );
    put(Array.from({ length: MAX_BATCH_LINES + 1 }, () => '{"prompt":"x"}').join('\n'));
    await expect(prepareBatch({ batchId: 'b1', manifest: manifest() }, deps())).rejects.toThrow(
      new RegExp(`more than ${MAX_BATCH_LINES} requests; split it`),
    );
    expect(batches.records.size).toBe(0);
  });

  it('refuses an unusable batch id', async () => {
    put('{"prompt":"x"}');
    await expect(prepareBatch({ batchId: 'no spaces', manifest: manifest() }, deps())).rejects.toThrow(
      BatchInputError,
    );
  });
});

describe('finishBatch', () => {
  const jobsOf = (outcomes: BatchJobOutcome[]) => ({
    asked: [] as string[],
    async get(ids: readonly string[]) {
      this.asked.push(...ids);
      return new Map(outcomes.filter((o) => ids.includes(o.jobId)).map((o) => [o.jobId, o]));
    },
  });

  it('reads the records of the runnable lines and writes the summary to S3 and to the batch record', async () => {
    put('{"prompt":"one"}\n{"prompt":""}\n{"prompt":"three"}');
    const prepared = await prepareBatch({ batchId: 'b1', manifest: manifest() }, deps());
    const jobs = jobsOf([
      { jobId: 'batch-b1-1', status: 'COMPLETED' },
      { jobId: 'batch-b1-3', status: 'EXPIRED', errorCode: 'ResultExpiredError', errorMessage: 'gone' },
    ]);

    const finished = await finishBatch({ ...prepared }, { ...deps(), jobs });

    expect(jobs.asked).toEqual(['batch-b1-1', 'batch-b1-3']);
    expect(finished).toEqual({
      batchId: 'b1',
      status: 'COMPLETED_WITH_FAILURES',
      lineCount: 3,
      counts: { COMPLETED: 1, INVALID: 1, EXPIRED: 1 },
      failureCount: 2,
      summary: { bucket: BUCKET, key: 'batches/b1/summary.json' },
    });
    const summary = JSON.parse(
      files.objects.get(`${BUCKET}/batches/b1/summary.json`) ?? '{}',
    ) as BatchSummary;
    expect(summary.failures.map((f) => [f.line, f.status, f.reason])).toEqual([
      [2, 'INVALID', expect.stringContaining('prompt must not be empty')],
      [3, 'EXPIRED', 'gone'],
    ]);
    expect(summary.startedAt).toBe(NOW.toISOString());
    expect(batches.records.get('b1')).toMatchObject({
      status: 'COMPLETED_WITH_FAILURES',
      failureCount: 2,
      summary: { bucket: BUCKET, key: 'batches/b1/summary.json' },
    });
  });

  it('keeps only the first failures on the record; the summary in S3 has them all', async () => {
    const count = RECORDED_FAILURES + 20;
    put(Array.from({ length: count }, () => '{"prompt":""}').join('\n'));
    const prepared = await prepareBatch({ batchId: 'b1', manifest: manifest() }, deps());
    await finishBatch(prepared, { ...deps(), jobs: jobsOf([]) });
    const record = batches.records.get('b1');
    expect(record?.failureCount).toBe(count);
    expect(record?.failures).toHaveLength(RECORDED_FAILURES);
    const summary = JSON.parse(
      files.objects.get(`${BUCKET}/batches/b1/summary.json`) ?? '{}',
    ) as BatchSummary;
    expect(summary.failures).toHaveLength(count);
  });
});
