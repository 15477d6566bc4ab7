import { describe, expect, it } from 'vitest';
import {
  COPY_SIZE_ENV,
  type CopyBenchResult,
  type CopyMethodResult,
  DEFAULT_COPY_BYTES,
  describePhases,
  evaluateCopyTargets,
  formatByteSize,
  formatCopyReport,
  mbPerSecond,
  parseByteSize,
  QUICK_COPY_BYTES,
  requiredFreeBytes,
  resolveCopySize,
  throughputRatio,
  toMethodResult,
} from '../../bench/copy';

const method = (
  overrides: Partial<CopyMethodResult> & Pick<CopyMethodResult, 'method'>,
): CopyMethodResult => ({
  label: overrides.method,
  bytes: 1024 ** 3,
  seconds: 10,
  mbPerSecond: 100,
  peakRssMb: 150,
  baselineRssMb: 60,
  phases: {},
  verified: 'size + sha256',
  ...overrides,
});

describe('copy arithmetic', () => {
  it('gives throughput in MB/s of 10^6 bytes', () => {
    expect(mbPerSecond(250_000_000, 2)).toBe(125);
    expect(mbPerSecond(1024 ** 3, 1)).toBeCloseTo(1073.741824, 6);
  });

  it('refuses a zero or negative duration rather than reporting an infinite speed', () => {
    expect(() => mbPerSecond(100, 0)).toThrow(RangeError);
    expect(() => mbPerSecond(100, -1)).toThrow(RangeError);
  });

  it('compares a method with the reference as a ratio', () => {
    expect(throughputRatio({ mbPerSecond: 70 }, { mbPerSecond: 100 })).toBeCloseTo(0.7);
    expect(() => throughputRatio({ mbPerSecond: 70 }, { mbPerSecond: 0 })).toThrow(RangeError);
  });

  it('turns what a child measured into rounded MB figures', () => {
    const result = toMethodResult(
      {
        method: 'store-video',
        bytes: 1024 ** 3,
        seconds: 19.12345,
        baselineRssBytes: 60_000_000,
        peakRssBytes: 150_049_000,
        phases: { stream: 8.06749 },
      },
      'ok',
    );
    expect(result).toMatchObject({
      label: 'store-video → S3 (streamed)',
      seconds: 19.123,
      mbPerSecond: 56.1,
      peakRssMb: 150,
      baselineRssMb: 60,
      phases: { stream: 8.067 },
      verified: 'ok',
    });
  });
});

describe('copy sizes', () => {
  it.each([
    ['1GiB', 1024 ** 3],
    ['256 MiB', 256 * 1024 ** 2],
    ['256M', 256 * 1024 ** 2],
    ['500MB', 500_000_000],
    ['1.5GB', 1_500_000_000],
    ['4096', 4096],
    ['64k', 65_536],
    ['100b', 100],
  ])('reads %s as %i bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', 'lots', '1 GiB extra', '-5MB', '1XB'])('refuses "%s"', (text) => {
    expect(() => parseByteSize(text)).toThrow(RangeError);
  });

  it('names round binary sizes in MiB/GiB and others in MB', () => {
    expect(formatByteSize(1024 ** 3)).toBe('1 GiB');
    expect(formatByteSize(256 * 1024 ** 2)).toBe('256 MiB');
    expect(formatByteSize(500_000_000)).toBe('500 MB');
    expect(formatByteSize(4096)).toBe('4096 bytes');
  });

  it('takes the caller size first, then the environment, then the mode default', () => {
    const env = { [COPY_SIZE_ENV]: '64MiB' };
    expect(resolveCopySize({ quick: false, sizeBytes: 10_000_000 }, env)).toBe(10_000_000);
    expect(resolveCopySize({ quick: true }, env)).toBe(64 * 1024 ** 2);
    expect(resolveCopySize({ quick: true }, {})).toBe(QUICK_COPY_BYTES);
    expect(resolveCopySize({ quick: false }, {})).toBe(DEFAULT_COPY_BYTES);
    expect(DEFAULT_COPY_BYTES).toBeGreaterThanOrEqual(1e9);
  });

  it('refuses sizes store-video itself would refuse, or too small for an MP4 header', () => {
    expect(() => resolveCopySize({ quick: false, sizeBytes: 3 * 1024 ** 3 }, {})).toThrow(/store-video/);
    expect(() => resolveCopySize({ quick: false, sizeBytes: 10 }, {})).toThrow(RangeError);
  });

  it('asks for room for the staged, assembled and final copies at once', () => {
    expect(requiredFreeBytes(1024 ** 3)).toBeGreaterThanOrEqual(3 * 1024 ** 3);
  });
});

describe('copy targets', () => {
  const raw = method({ method: 'raw-download', mbPerSecond: 500, peakRssMb: 90 });

  it('meets both when store-video stays under 200 MB and reaches 70 % of the raw download', () => {
    const targets = evaluateCopyTargets(
      [raw, method({ method: 'store-video', mbPerSecond: 350, peakRssMb: 200 })],
      1024 ** 3,
    );
    expect(targets).toEqual([
      {
        name: 'store-video peak RSS',
        target: '≤ 200 MB for 1 GB',
        value: '200.0 MB copying 1 GiB',
        met: true,
      },
      {
        name: 'store-video throughput',
        target: '≥ 70 % of the raw download',
        value: '70.0 % (350.0 of 500.0 MB/s)',
        met: true,
      },
    ]);
  });

  it('misses them just above the memory bound and just below the ratio', () => {
    const targets = evaluateCopyTargets(
      [raw, method({ method: 'store-video', mbPerSecond: 349.9, peakRssMb: 200.1 })],
      1024 ** 3,
    );
    expect(targets.map((t) => t.met)).toEqual([false, false]);
  });

  it('judges only the store-video figures, whatever the naive copy did', () => {
    const targets = evaluateCopyTargets(
      [raw, method({ method: 'store-video' }), method({ method: 'naive-buffer-put', peakRssMb: 3000 })],
      1024 ** 3,
    );
    expect(targets.map((t) => t.name)).toEqual(['store-video peak RSS', 'store-video throughput']);
  });

  it('leaves out the throughput target when there is no raw download to compare with', () => {
    expect(evaluateCopyTargets([method({ method: 'store-video' })], 1024 ** 3)).toHaveLength(1);
  });
});

describe('copy report', () => {
  const result: CopyBenchResult = {
    sizeBytes: 1024 ** 3,
    sizeLabel: '1 GiB',
    quick: false,
    methods: [
      method({ method: 'raw-download', label: 'raw download (Node) → /dev/null', mbPerSecond: 500 }),
      method({
        method: 'store-video',
        label: 'store-video → S3 (streamed)',
        mbPerSecond: 50,
        phases: { stream: 8, publish: 11, completeMultipartUpload: 5, copyObject: 5 },
      }),
      method({ method: 'naive-buffer-put', phases: { download: 4, upload: 6 } }),
    ],
    targets: [
      { name: 'store-video throughput', target: '≥ 70 %', value: '10.0 %', met: false },
      { name: 'store-video peak RSS', target: '≤ 200 MB', value: '150 MB', met: true },
    ],
    notes: ['a note'],
  };

  it('prints one row per method and says plainly which targets are not met', () => {
    const report = formatCopyReport(result);
    expect(report).toContain('raw download (Node) → /dev/null');
    expect(report).toMatch(/NOT met\s+store-video throughput/);
    expect(report).toMatch(/\bmet\s+store-video peak RSS/);
    expect(report).toContain('Note: a note');
  });

  it('prints only the reason when the bench was skipped', () => {
    expect(formatCopyReport({ ...result, methods: [], targets: [], skipped: 'no disk' })).toBe('no disk');
  });

  it('says where store-video and the naive copy spent their time', () => {
    const notes = describePhases(result.methods);
    expect(notes[0]).toMatch(/8\.00 s \(134\.2 MB\/s\).*11\.00 s.*CompleteMultipartUpload 5\.00 s/);
    expect(notes[1]).toMatch(/download into memory 268\.4 MB\/s.*PutObject 179\.0 MB\/s/);
  });
});
