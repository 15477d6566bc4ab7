import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fingerprintRequest,
  isJobId,
  jobIdForBatchLine,
  jobIdFromIdempotencyKey,
  jobIdFromS3Object,
  MAX_JOB_ID_LENGTH,
  newJobId,
} from '#domain/job-id';
import { videoRequestSchema } from '#domain/video-request';

/** What Step Functions accepts as an execution name (1–80 chars, none of whitespace, brackets, wildcards, specials). */
const isExecutionName = (name: string): boolean =>
  name.length >= 1 &&
  name.length <= MAX_JOB_ID_LENGTH &&
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what must be absent
  !/[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name);

describe('job ids from an Idempotency-Key', () => {
  it('are valid execution names for any caller and key, and the same inputs give the same id', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (caller, key) => {
        const id = jobIdFromIdempotencyKey(caller, key);
        expect(isExecutionName(id)).toBe(true);
        expect(isJobId(id)).toBe(true);
        expect(jobIdFromIdempotencyKey(caller, key)).toBe(id);
      }),
    );
  });

  it('differ between callers who pick the same key', () => {
    expect(jobIdFromIdempotencyKey('iam:arn:aws:iam::1:user/a', 'k1')).not.toBe(
      jobIdFromIdempotencyKey('iam:arn:aws:iam::1:user/b', 'k1'),
    );
  });

  it('cannot be confused by moving a separator between caller and key', () => {
    expect(jobIdFromIdempotencyKey('a:b', 'c')).not.toBe(jobIdFromIdempotencyKey('a', 'b:c'));
  });
});

describe('job ids from an S3 object', () => {
  const object = { bucket: 'uploads', key: 'in/cat.png' };

  it('are the same for a duplicate event and valid execution names', () => {
    const id = jobIdFromS3Object({ ...object, versionId: 'v1', etag: 'abc' });
    expect(jobIdFromS3Object({ ...object, versionId: 'v1', etag: 'abc' })).toBe(id);
    expect(isExecutionName(id)).toBe(true);
  });

  it('differ for another version of the same key', () => {
    expect(jobIdFromS3Object({ ...object, versionId: 'v1' })).not.toBe(
      jobIdFromS3Object({ ...object, versionId: 'v2' }),
    );
  });

  it('use the ETag when there is no version id, quoted or not', () => {
    expect(jobIdFromS3Object({ ...object, etag: '"abc"' })).toBe(
      jobIdFromS3Object({ ...object, etag: 'abc' }),
    );
    expect(jobIdFromS3Object({ ...object, etag: 'abc' })).not.toBe(
      jobIdFromS3Object({ ...object, etag: 'abd' }),
    );
  });

  it('refuse an object with neither version id nor ETag', () => {
    expect(() => jobIdFromS3Object(object)).toThrow(/version id or an ETag/);
  });
});

describe('job ids of batch lines', () => {
  it('are readable when the batch id is a safe name', () => {
    expect(jobIdForBatchLine('nightly-2030-01-01', 7)).toBe('batch-nightly-2030-01-01-7');
  });

  it('hash batch ids that are unsafe or too long, and stay valid execution names', () => {
    const id = jobIdForBatchLine('s3://bucket/manifests/nightly run.jsonl', 12);
    expect(id).toMatch(/^batch-[0-9a-f]{24}-12$/);
    expect(isExecutionName(jobIdForBatchLine('x'.repeat(200), 99_999))).toBe(true);
  });

  it('never give two (batch, line) pairs the same id', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.string({ minLength: 1 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (batchA, lineA, batchB, lineB) => {
          fc.pre(batchA !== batchB || lineA !== lineB);
          expect(jobIdForBatchLine(batchA, lineA)).not.toBe(jobIdForBatchLine(batchB, lineB));
        },
      ),
    );
  });

  it('refuse line numbers that are not positive integers', () => {
    expect(() => jobIdForBatchLine('b', 0)).toThrow(RangeError);
    expect(() => jobIdForBatchLine('b', 1.5)).toThrow(RangeError);
  });
});

describe('random job ids', () => {
  it('are valid execution names and do not repeat', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newJobId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(isExecutionName(id)).toBe(true);
  });
});

describe('request fingerprints', () => {
  const parse = (body: unknown) => videoRequestSchema.parse(body);

  it('treat a default spelled out and a default left out as the same request', () => {
    expect(fingerprintRequest(parse({ prompt: 'a fox' }))).toBe(
      fingerprintRequest(parse({ resolution: '2k', prompt: ' a fox ', duration: 8, generateAudio: true })),
    );
  });

  it('tell different requests apart', () => {
    expect(fingerprintRequest(parse({ prompt: 'a fox' }))).not.toBe(
      fingerprintRequest(parse({ prompt: 'a cat' })),
    );
    expect(fingerprintRequest(parse({ prompt: 'a fox' }))).not.toBe(
      fingerprintRequest(parse({ prompt: 'a fox', duration: 10 })),
    );
  });
});
