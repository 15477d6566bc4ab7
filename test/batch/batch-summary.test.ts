// The summary of a batch: counts by outcome, every line without a video with its number and reason, and
// whether the batch is done.
import { describe, expect, it } from 'vitest';
import type { BatchLine } from '#domain/batch-manifest';
import { type SummarizeBatchInput, summarizeBatch } from '#domain/batch-summary';
import type { JobStatus } from '#domain/video-job';

const manifest = { bucket: 'videos', key: 'manifests/a.jsonl' };
const request = { prompt: 'x', duration: 8, resolution: '2k', generateAudio: true } as const;
const runnable = (line: number): BatchLine => ({ line, jobId: `batch-b-${line}`, request });
const rejected = (line: number, errorCode: string, errorMessage: string): BatchLine => ({
  line,
  rejected: { errorCode, errorMessage },
});
const job = (line: number, status: JobStatus, errorCode?: string, errorMessage?: string) =>
  [
    `batch-b-${line}`,
    {
      jobId: `batch-b-${line}`,
      status,
      ...(errorCode === undefined ? {} : { errorCode }),
      ...(errorMessage === undefined ? {} : { errorMessage }),
    },
  ] as const;

const input = (overrides: Partial<SummarizeBatchInput>): SummarizeBatchInput => ({
  batchId: 'b',
  manifest,
  lines: [],
  jobs: new Map(),
  finishedAt: new Date('2030-01-01T00:00:00Z'),
  ...overrides,
});

describe('summarizeBatch', () => {
  it('counts lines by outcome and lists every failure by line number, with its reason', () => {
    const summary = summarizeBatch(
      input({
        // Out of order on purpose: the summary reads by line number.
        lines: [
          runnable(4),
          rejected(2, 'InvalidManifestLineError', 'not valid JSON: …'),
          runnable(1),
          runnable(5),
        ],
        jobs: new Map([
          job(1, 'COMPLETED'),
          job(4, 'FAILED', 'SegmindJobFailedError', 'Segmind: content blocked'),
          job(5, 'COMPLETED'),
        ]),
        startedAt: '2029-12-31T23:00:00.000Z',
      }),
    );
    expect(summary).toEqual({
      batchId: 'b',
      status: 'COMPLETED_WITH_FAILURES',
      manifest,
      lineCount: 4,
      counts: { COMPLETED: 2, INVALID: 1, FAILED: 1 },
      failures: [
        { line: 2, status: 'INVALID', errorCode: 'InvalidManifestLineError', reason: 'not valid JSON: …' },
        {
          line: 4,
          jobId: 'batch-b-4',
          status: 'FAILED',
          errorCode: 'SegmindJobFailedError',
          reason: 'Segmind: content blocked',
        },
      ],
      jobs: [
        { line: 1, jobId: 'batch-b-1', status: 'COMPLETED' },
        { line: 4, jobId: 'batch-b-4', status: 'FAILED' },
        { line: 5, jobId: 'batch-b-5', status: 'COMPLETED' },
      ],
      startedAt: '2029-12-31T23:00:00.000Z',
      finishedAt: '2030-01-01T00:00:00.000Z',
    });
  });

  it('is COMPLETED only when every line stored its video', () => {
    const summary = summarizeBatch(
      input({ lines: [runnable(1), runnable(2)], jobs: new Map([job(1, 'COMPLETED'), job(2, 'COMPLETED')]) }),
    );
    expect(summary.status).toBe('COMPLETED');
    expect(summary.failures).toEqual([]);
  });

  it('is INCOMPLETE while a job still runs, or when a line never got a job', () => {
    expect(
      summarizeBatch(input({ lines: [runnable(1)], jobs: new Map([job(1, 'PROCESSING')]) })).status,
    ).toBe('INCOMPLETE');
    const neverStarted = summarizeBatch(
      input({ lines: [runnable(1), runnable(2)], jobs: new Map([job(1, 'COMPLETED')]) }),
    );
    expect(neverStarted.status).toBe('INCOMPLETE');
    expect(neverStarted.failures).toEqual([
      { line: 2, jobId: 'batch-b-2', status: 'NOT_STARTED', reason: expect.stringMatching(/^no job record/) },
    ]);
    expect(neverStarted.counts).toEqual({ COMPLETED: 1, NOT_STARTED: 1 });
  });

  it('is INCOMPLETE, and says why, when the map itself failed', () => {
    const summary = summarizeBatch(
      input({
        lines: [runnable(1)],
        jobs: new Map([job(1, 'COMPLETED')]),
        mapError: { error: 'States.ItemReaderFailed', cause: 'access denied' },
      }),
    );
    expect(summary.status).toBe('INCOMPLETE');
    expect(summary.error).toEqual({ error: 'States.ItemReaderFailed', cause: 'access denied' });
  });

  it('counts cancelled, expired and timed-out jobs as ended without a video', () => {
    const statuses: JobStatus[] = ['CANCELLED', 'EXPIRED', 'TIMED_OUT'];
    const summary = summarizeBatch(
      input({
        lines: statuses.map((_, i) => runnable(i + 1)),
        jobs: new Map(statuses.map((status, i) => job(i + 1, status))),
      }),
    );
    expect(summary.status).toBe('COMPLETED_WITH_FAILURES');
    expect(summary.failures.map((f) => [f.line, f.status, f.reason])).toEqual([
      [1, 'CANCELLED', 'the job is CANCELLED'],
      [2, 'EXPIRED', 'the job is EXPIRED'],
      [3, 'TIMED_OUT', 'the job is TIMED_OUT'],
    ]);
  });
});
