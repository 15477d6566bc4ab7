// Manifest lines, batch ids and where a batch may read and write: what a user's manifest turns into.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH_ID_PATTERN,
  BatchInputError,
  batchFileKeys,
  batchIdFrom,
  batchLineSchema,
  checkManifestLocation,
  INVALID_MANIFEST_LINE,
  isRunnable,
  MAX_BATCH_LINES,
  MAX_LINE_BYTES,
  manifestEntryText,
  parseManifestLine,
} from '#domain/batch-manifest';
import { isJobId, jobIdForBatchLine } from '#domain/job-id';

describe('batchIdFrom', () => {
  it('keeps an id that is already safe', () => {
    expect(batchIdFrom('daily-2026_01')).toBe('daily-2026_01');
    expect(batchIdFrom('  spaced  ')).toBe('spaced');
  });

  it("turns Scheduler's scheduled time into its basic ISO form in UTC", () => {
    expect(batchIdFrom('2026-01-05T09:00:00Z')).toBe('20260105T090000Z');
    expect(batchIdFrom('2026-01-05T10:00:00+01:00')).toBe('20260105T090000Z');
    // Scheduler's times are whole seconds; a fraction is dropped rather than kept as an unsafe '.'.
    expect(batchIdFrom('2026-01-05T09:00:00.250Z')).toBe('20260105T090000Z');
  });

  it('names every delivery of one scheduled run alike, and different runs differently', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        (at) => {
          const whole = new Date(Math.floor(at.getTime() / 1000) * 1000);
          const id = batchIdFrom(whole.toISOString().replace('.000Z', 'Z'));
          expect(id).toMatch(BATCH_ID_PATTERN);
          expect(batchIdFrom(whole.toISOString())).toBe(id);
          const next = new Date(whole.getTime() + 1000);
          expect(batchIdFrom(next.toISOString())).not.toBe(id);
          // …and its jobs keep readable ids: batch-<id>-<line>.
          expect(jobIdForBatchLine(id, MAX_BATCH_LINES)).toBe(`batch-${id}-${MAX_BATCH_LINES}`);
        },
      ),
    );
  });

  it('refuses anything else, saying what a batch id may be', () => {
    for (const bad of ['', 'a b', 'batch/1', 'x'.repeat(65), '2026-13-45T99:99:99Z', 'next tuesday']) {
      expect(() => batchIdFrom(bad), bad).toThrow(BatchInputError);
    }
    expect(() => batchIdFrom('a b')).toThrow(/1-64 of A-Z a-z 0-9 _ -/);
  });

  it('keeps every job id of a batch within the execution-name rules', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
        fc.integer({ min: 1, max: MAX_BATCH_LINES }),
        (id, line) => {
          const jobId = jobIdForBatchLine(batchIdFrom(id), line);
          expect(isJobId(jobId)).toBe(true);
          expect(jobId).toBe(`batch-${id}-${line}`);
        },
      ),
    );
  });
});

describe('parseManifestLine', () => {
  it('makes a valid request runnable, with defaults applied and the job id of batch + line', () => {
    const line = parseManifestLine('{"prompt": "  a red fox  ", "duration": 6}', 7, 'b1');
    expect(line).toEqual({
      line: 7,
      jobId: 'batch-b1-7',
      request: { prompt: 'a red fox', duration: 6, resolution: '2k', generateAudio: true },
    });
    expect(isRunnable(line)).toBe(true);
  });

  it('rejects a line that is not JSON, saying so', () => {
    const line = parseManifestLine('{"prompt": "unterminated', 3, 'b1');
    expect(line).toEqual({
      line: 3,
      rejected: {
        errorCode: INVALID_MANIFEST_LINE,
        errorMessage: expect.stringMatching(/^not valid JSON: /),
      },
    });
    expect(isRunnable(line)).toBe(false);
  });

  it.each([
    ['["a", "b"]', 'an array'],
    ['"just a prompt"', 'a string'],
    ['42', 'a number'],
    ['null', 'null'],
  ])('rejects %s: a line must be an object', (text, what) => {
    expect(parseManifestLine(text, 1, 'b1')).toEqual({
      line: 1,
      rejected: {
        errorCode: INVALID_MANIFEST_LINE,
        errorMessage: `must be a JSON object like {"prompt": "..."}, got ${what}`,
      },
    });
  });

  it.each([
    ['{"duration": 8}', 'prompt'],
    ['{"prompt": "x", "duration": 7}', 'duration must be one of 6, 8, 10'],
    ['{"prompt": "x", "resolution": "8k"}', 'resolution must be one of 1080p, 2k, 4k'],
    ['{"prompt": "x", "imageUrl": "ftp://example.com/a.png"}', 'imageUrl must be an http(s) URL'],
    ['{"prompt": "x", "colour": "red"}', 'colour'],
  ])('rejects %s with the schema message naming the field', (text, field) => {
    const line = parseManifestLine(text, 2, 'b1');
    expect(line).toEqual({
      line: 2,
      rejected: { errorCode: 'InvalidVideoRequestError', errorMessage: expect.stringContaining(field) },
    });
  });

  it('rejects an oversized line without parsing it', () => {
    const text = JSON.stringify({ prompt: 'x', pad: 'y'.repeat(MAX_LINE_BYTES) });
    const line = parseManifestLine(text, 9, 'b1');
    expect(line).toMatchObject({ line: 9, rejected: { errorCode: INVALID_MANIFEST_LINE } });
    expect(isRunnable(line) ? '' : line.rejected.errorMessage).toMatch(/bytes; at most 65536/);
  });

  it('never throws, whatever the line holds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const line = parseManifestLine(text, 1, 'b1');
        expect(batchLineSchema.safeParse(line).success).toBe(true);
      }),
    );
  });
});

describe('manifestEntryText', () => {
  it('skips blank lines and strips a byte order mark and a carriage return', () => {
    expect(manifestEntryText('', 4)).toBeUndefined();
    expect(manifestEntryText(' \t ', 4)).toBeUndefined();
    expect(manifestEntryText('\r', 4)).toBeUndefined();
    expect(manifestEntryText('\uFEFF{"prompt":"x"}\r', 1)).toBe('{"prompt":"x"}');
    expect(manifestEntryText('{"prompt":"x"}\r', 2)).toBe('{"prompt":"x"}');
  });
});

describe('where a batch reads and writes', () => {
  it('reads manifests only from the videos bucket, under manifests/', () => {
    expect(() =>
      checkManifestLocation({ bucket: 'videos', key: 'manifests/a.jsonl' }, 'videos'),
    ).not.toThrow();
    expect(() => checkManifestLocation({ bucket: 'other', key: 'manifests/a.jsonl' }, 'videos')).toThrow(
      /manifest.bucket must be videos/,
    );
    for (const key of ['a.jsonl', 'batches/x/lines.jsonl', 'manifests/']) {
      expect(() => checkManifestLocation({ bucket: 'videos', key }, 'videos'), key).toThrow(BatchInputError);
    }
  });

  it('keeps each batch’s files under batches/<batchId>/', () => {
    expect(batchFileKeys('b1')).toEqual({
      lines: 'batches/b1/lines.jsonl',
      summary: 'batches/b1/summary.json',
    });
  });
});
