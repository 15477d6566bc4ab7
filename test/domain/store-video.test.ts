import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { JobCancelledError, VideoIntegrityError, VideoTransferError } from '#domain/errors';
import { expectedVideoOf } from '#domain/mp4-check';
import { DEFAULT_RETRY_POLICY } from '#domain/retry-later';
import {
  hasMp4Signature,
  isMp4ContentType,
  type StoreVideoAttemptDeps,
  type StoreVideoDeps,
  storeVideo,
  storeVideoAttempt,
  type VideoDownload,
  type VideoExpectations,
  type VideoObjectSpec,
  VideoVerifier,
  videoKey,
} from '#domain/store-video';
import { corruptLikeEmulator, DEFAULT_VARIANT, realMp4 } from '#test/adapters/video-fixtures';
import { fixedClock } from '#test/support/workflow-fakes';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** `ftyp` at offset 4, then filler. */
const mp4 = (size: number): Buffer => {
  const body = Buffer.alloc(size, 0x5a);
  Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]).copy(body);
  return body;
};

/** Streams `chunks` one by one (to exercise signatures split across chunks). */
const streamOf = (...chunks: Buffer[]): Readable => Readable.from(chunks, { objectMode: false });

const verify = async (expect: Partial<VideoExpectations>, ...chunks: Buffer[]) => {
  const verifier = new VideoVerifier({ maxBytes: 1024 ** 3, ...expect });
  const out = await buffer(streamOf(...chunks).pipe(verifier));
  return { out, bytes: verifier.bytes, sha256: verifier.sha256 };
};

describe('videoKey', () => {
  it('dates the key in UTC', () => {
    expect(videoKey('job-1', new Date('2025-03-09T23:30:00-05:00'))).toBe('videos/2025/03/10/job-1.mp4');
    expect(videoKey('job-2', new Date('2026-12-31T23:59:59Z'))).toBe('videos/2026/12/31/job-2.mp4');
  });
});

describe('MP4 recognition', () => {
  it('knows the ftyp signature', () => {
    expect(hasMp4Signature(mp4(8))).toBe(true);
    expect(hasMp4Signature(Buffer.from('\0\0\0\x18ftypisom'))).toBe(true);
    expect(hasMp4Signature(Buffer.from('<html><body>'))).toBe(false);
    expect(hasMp4Signature(Buffer.from('\0\0\0\x18fty'))).toBe(false);
  });

  it('reads the content type without parameters or case', () => {
    expect(isMp4ContentType('video/mp4')).toBe(true);
    expect(isMp4ContentType('Video/MP4; codecs="avc1"')).toBe(true);
    expect(isMp4ContentType('application/octet-stream')).toBe(false);
    expect(isMp4ContentType(undefined)).toBe(false);
  });
});

describe('VideoVerifier', () => {
  it('passes the bytes through and hashes them', async () => {
    const body = mp4(100_000);
    const result = await verify({ contentLength: body.length, fileSize: body.length }, body);
    expect(result.out.equals(body)).toBe(true);
    expect(result).toMatchObject({ bytes: body.length, sha256: sha256(body) });
  });

  it('finds the signature even when the first chunks are tiny', async () => {
    const body = mp4(64);
    const result = await verify({}, body.subarray(0, 3), body.subarray(3, 6), body.subarray(6));
    expect(result.sha256).toBe(sha256(body));
  });

  it('refuses a body without the MP4 signature, as soon as the first bytes arrive', async () => {
    const verifier = new VideoVerifier({ maxBytes: 1e9 });
    // An endless body: rejecting at all proves the check does not wait for the end.
    const endless = new Readable({
      read() {
        this.push(Buffer.from('<html>error page</html>'));
      },
    });
    await expect(buffer(endless.pipe(verifier))).rejects.toThrow(/not an MP4 \(no ftyp box/);
    endless.destroy();
  });

  it('refuses a body too short to carry the signature', async () => {
    await expect(verify({}, Buffer.from('ftyp'))).rejects.toThrow(/only 4 bytes/);
    await expect(verify({})).rejects.toThrow(VideoIntegrityError);
  });

  it('calls fewer bytes than Content-Length a broken transfer (retryable)', async () => {
    await expect(verify({ contentLength: 1000 }, mp4(999))).rejects.toThrow(VideoTransferError);
  });

  it('calls a byte count different from file_size an integrity failure', async () => {
    await expect(verify({ fileSize: 1000 }, mp4(999))).rejects.toThrow(VideoIntegrityError);
    await expect(verify({ fileSize: 1000 }, mp4(600), mp4(600))).rejects.toThrow(/larger than expected/);
  });

  it('stops a body larger than the limit', async () => {
    await expect(verify({ maxBytes: 1000 }, mp4(800), mp4(800))).rejects.toThrow(VideoIntegrityError);
  });

  it('has no sha256 before the end', () => {
    expect(() => new VideoVerifier({ maxBytes: 1 }).sha256).toThrow();
  });
});

describe('storeVideo', () => {
  const NOW = new Date('2025-06-01T12:00:00Z');

  interface Harness {
    deps: StoreVideoDeps;
    events: string[];
    stored: Map<string, { bytes: Buffer; spec: VideoObjectSpec; metadata: Record<string, string> }>;
    warnings: unknown[];
  }

  const harness = (download: () => VideoDownload, overrides: Partial<StoreVideoDeps> = {}): Harness => {
    const events: string[] = [];
    const warnings: unknown[] = [];
    const stored: Harness['stored'] = new Map();
    const deps: StoreVideoDeps = {
      jobs: {
        markStoring: async (jobId, at) => {
          events.push(`markStoring ${jobId} ${at.toISOString()}`);
        },
      },
      source: {
        open: async (url) => {
          events.push(`open ${url}`);
          return download();
        },
      },
      // Like S3: the object exists only if the body was read to its end without error.
      sink: {
        write: async (body, spec) => {
          const bytes = await buffer(body);
          stored.set(spec.key, { bytes, spec, metadata: spec.metadata() });
        },
      },
      bucket: 'videos-bucket',
      now: () => NOW,
      warn: (message, details) => warnings.push({ message, details }),
      ...overrides,
    };
    return { deps, events, stored, warnings };
  };

  const input = { jobId: 'job-42', segmindRequestId: 'req-9', videoUrl: 'https://cdn.example.com/v.mp4' };
  const ok =
    (body: Buffer, contentType: string | undefined = 'video/mp4'): (() => VideoDownload) =>
    () => ({
      body: streamOf(body),
      contentType,
      contentLength: body.length,
    });

  it('marks the job STORING, then stores the verified video and says where', async () => {
    const body = mp4(50_000);
    const h = harness(ok(body));
    const result = await storeVideo({ ...input, fileSize: body.length }, h.deps);
    expect(result).toEqual({
      bucket: 'videos-bucket',
      key: 'videos/2025/06/01/job-42.mp4',
      bytes: body.length,
      sha256: sha256(body),
      contentType: 'video/mp4',
    });
    expect(h.events).toEqual(['markStoring job-42 2025-06-01T12:00:00.000Z', `open ${input.videoUrl}`]);
    const object = h.stored.get(result.key);
    expect(object?.bytes.equals(body)).toBe(true);
    expect(object?.spec).toMatchObject({ bucket: 'videos-bucket', contentType: 'video/mp4' });
    expect(object?.metadata).toEqual({
      sha256: sha256(body),
      jobid: 'job-42',
      'segmind-request-id': 'req-9',
    });
  });

  it('checks a real MP4 against the request: the right one is stored, any other never is', async () => {
    const expected = expectedVideoOf({ resolution: '1080p', duration: 6, generateAudio: true });
    const [good, silent, eightSeconds] = await Promise.all([
      realMp4(DEFAULT_VARIANT),
      realMp4({ ...DEFAULT_VARIANT, audio: false }),
      realMp4({ ...DEFAULT_VARIANT, duration: 8 }),
    ]);
    const h = harness(ok(good));
    await expect(storeVideo({ ...input, expected }, h.deps)).resolves.toMatchObject({ bytes: good.length });
    for (const [wrong, message] of [
      [silent, /no audio track/],
      [eightSeconds, /lasts 8/],
      [corruptLikeEmulator(good), /MP4/],
    ] as const) {
      const bad = harness(ok(wrong));
      await expect(storeVideo({ ...input, expected }, bad.deps)).rejects.toThrow(message);
      expect(bad.stored.size).toBe(0);
    }
  });

  it('downloads nothing when the job was cancelled', async () => {
    const h = harness(ok(mp4(100)), {
      jobs: {
        markStoring: async () => {
          throw new JobCancelledError('cancelled');
        },
      },
    });
    await expect(storeVideo(input, h.deps)).rejects.toThrow(JobCancelledError);
    expect(h.events).toEqual([]);
  });

  it('refuses before streaming when Content-Length and file_size disagree', async () => {
    const body = streamOf(mp4(100));
    const h = harness(() => ({ body, contentType: 'video/mp4', contentLength: 100 }));
    await expect(storeVideo({ ...input, fileSize: 101 }, h.deps)).rejects.toThrow(VideoIntegrityError);
    expect(body.destroyed).toBe(true);
    expect(h.stored.size).toBe(0);
  });

  it.each([
    ['a body without Content-Length that is shorter than file_size', 99, undefined, VideoIntegrityError],
    ['a body shorter than its Content-Length', 99, 100, VideoTransferError],
  ])('stores nothing for %s', async (_what, sent, contentLength, error) => {
    const h = harness(() => ({ body: streamOf(mp4(sent)), contentType: 'video/mp4', contentLength }));
    await expect(storeVideo({ ...input, fileSize: 100 }, h.deps)).rejects.toThrow(error);
    expect(h.stored.size).toBe(0);
  });

  it('accepts a real MP4 with a generic content type, with a warning', async () => {
    const body = mp4(1000);
    const h = harness(ok(body, 'application/octet-stream'));
    await expect(storeVideo(input, h.deps)).resolves.toMatchObject({ contentType: 'video/mp4', bytes: 1000 });
    expect(h.warnings).toEqual([
      expect.objectContaining({ details: { contentType: 'application/octet-stream' } }),
    ]);
  });

  it.each([
    ['labelled video/mp4 (a corrupted download)', 'video/mp4'],
    ['labelled text/html (an error page)', 'text/html'],
    ['without a label', undefined],
  ])('refuses bytes without the MP4 signature %s', async (_what, contentType) => {
    const h = harness(ok(Buffer.alloc(1000, 0x41), contentType));
    await expect(storeVideo(input, h.deps)).rejects.toThrow(VideoIntegrityError);
    expect(h.stored.size).toBe(0);
  });

  it('passes the download error through untouched', async () => {
    const broken = new VideoTransferError('connection reset');
    const body = Readable.from(
      (async function* () {
        yield mp4(100);
        throw broken;
      })(),
      { objectMode: false },
    );
    const h = harness(() => ({ body, contentType: 'video/mp4', contentLength: undefined }));
    await expect(storeVideo(input, h.deps)).rejects.toBe(broken);
  });

  it('releases the download when the sink fails', async () => {
    const body = streamOf(mp4(100), mp4(100));
    const h = harness(() => ({ body, contentType: 'video/mp4', contentLength: 200 }), {
      sink: {
        write: async () => {
          throw new Error('S3 is down');
        },
      },
    });
    await expect(storeVideo(input, h.deps)).rejects.toThrow('S3 is down');
    expect(body.destroyed).toBe(true);
  });

  describe('storeVideoAttempt: a broken or wrong download is fetched again until the deadline', () => {
    const SUBMITTED = '2025-06-01T11:50:00.000Z';
    const noted: unknown[] = [];
    const attemptDeps = (h: Harness, clock: ReturnType<typeof fixedClock>): StoreVideoAttemptDeps => ({
      ...h.deps,
      jobs: {
        ...h.deps.jobs,
        recordWaiting: async (_jobId, waiting) => {
          noted.push(waiting);
          return true;
        },
      },
      clock,
      random: () => 0.5,
    });

    it.each([
      [
        'a truncated download',
        () => new VideoTransferError('ended after 10 of 100 bytes'),
        'video-transfer-failed',
      ],
      [
        'a wrong video',
        () => new VideoIntegrityError('lasts 8.00 s, the job asked for 6 s'),
        'video-invalid',
      ],
    ])(
      'answers "download again at T" after %s, backing off, and stores nothing',
      async (_what, make, reason) => {
        const clock = fixedClock('2025-06-01T12:00:00.000Z');
        const failing = harness(() => {
          throw make();
        });
        const first = await storeVideoAttempt(
          { ...input, submittedAt: SUBMITTED },
          attemptDeps(failing, clock),
        );
        expect(first).toMatchObject({ reason, attempt: 1, detail: make().message });
        const second = await storeVideoAttempt(
          { ...input, submittedAt: SUBMITTED, previous: first },
          attemptDeps(failing, clock),
        );
        expect(second).toMatchObject({ reason, attempt: 2 });
        // The job record says why it waits and until when.
        expect(noted.at(-1)).toEqual({
          reason,
          until: (second as { retryAt: string }).retryAt,
          detail: make().message,
        });
        const waitOf = (answer: unknown) =>
          (Date.parse((answer as { retryAt: string }).retryAt) - clock.now().getTime()) / 1000;
        expect(waitOf(second)).toBeGreaterThan(waitOf(first));
        expect(failing.stored.size).toBe(0);
      },
    );

    it('fails with the video error at the deadline, whatever the count', async () => {
      const clock = fixedClock('2025-06-01T11:50:00.000Z');
      clock.advance(DEFAULT_RETRY_POLICY.deadlineSeconds);
      const h = harness(ok(Buffer.alloc(1000, 0x41)));
      const error = await storeVideoAttempt(
        {
          ...input,
          submittedAt: SUBMITTED,
          previous: { retryAt: SUBMITTED, reason: 'video-invalid', attempt: 2 },
        },
        attemptDeps(h, clock),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VideoIntegrityError);
      expect((error as Error).message).toMatch(
        /could not be stored: gave up .* after 3 attempts; last: video-invalid/,
      );
      expect(h.stored.size).toBe(0);
    });

    it('passes other errors through (a cancelled job is not retried)', async () => {
      const clock = fixedClock('2025-06-01T12:00:00.000Z');
      const h = harness(ok(mp4(100)), {
        jobs: {
          markStoring: async () => {
            throw new JobCancelledError('cancelled');
          },
        },
      });
      await expect(
        storeVideoAttempt({ ...input, submittedAt: SUBMITTED }, attemptDeps(h, clock)),
      ).rejects.toThrow(JobCancelledError);
    });

    it('returns the stored video when the download is good', async () => {
      const clock = fixedClock('2025-06-01T12:00:00.000Z');
      const h = harness(ok(mp4(500)));
      await expect(
        storeVideoAttempt({ ...input, submittedAt: SUBMITTED }, attemptDeps(h, clock)),
      ).resolves.toMatchObject({ bytes: 500, key: 'videos/2025/06/01/job-42.mp4' });
    });
  });
});
