// Copy bench (issue 5, part 2): how fast and in how little memory store-video copies a big MP4, side by
// side with the physical limit (a raw download to /dev/null) and the naive baseline (buffer, then PutObject).
//
// API (for bench/run.ts):
//   runCopyBench(options: { quick: boolean; sizeBytes?: number }): Promise<CopyBenchResult>
//     Size: options.sizeBytes, else env BENCH_COPY_SIZE (parseByteSize: "1GiB", "256MiB", "500MB", bytes),
//     else 256 MiB with quick, 1 GiB without. Throws when a copy fails or its stored object does not match
//     the source (CopyVerificationError); returns `skipped` (and no methods/targets) when the disk is too full.
//   CopyBenchResult = { sizeBytes, sizeLabel, quick, methods: CopyMethodResult[], targets: CopyTarget[],
//                       notes: string[], skipped?: string }
//   CopyMethodResult = { method: 'raw-download' | 'store-video' | 'naive-buffer-put', label, bytes, seconds,
//                        mbPerSecond, peakRssMb, baselineRssMb, phases: Record<string, number> (seconds),
//                        verified: string }
//   CopyTarget = { name, target, value, met }   (target/value display-ready strings)
//   formatCopyReport(result): string   the table this file prints when run by itself.
//   parseByteSize(text): number        for a --size flag ("1GiB", "256M" = MiB, "500MB" = 10^6).
// Run it alone, not alongside other parts of the bench: it needs both cores to mean anything.
// Units: MB = 10^6 bytes (throughput and RSS alike); sizes in MiB/GiB are 2^20/2^30 bytes.
//
// How it measures: the synthetic video (bench/copy-source.ts) is served by its own process; s3rver runs in
// this process; each method runs once, in turn, in a fresh forked process (bench/copy-child.ts, bundled with
// esbuild the way CDK bundles the Lambda), which reports its wall time and its peak RSS (maxRSS). Only
// the copier's memory is in its RSS: neither the server it downloads from nor the S3 it writes to is.
// Afterwards this process reads every stored object back and checks its size and SHA-256 against the source,
// so a broken copy can never be reported as a fast one.
//
// Standalone: npx tsx bench/copy.ts [--quick] [--size=512MiB] [--json]
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { VIDEO_STAGING_PREFIX } from '#adapters/video-upload';
import { ENV } from '#commons/env';
import { DEFAULT_MAX_VIDEO_BYTES } from '#domain/store-video';
import { startLocalServers } from '#local/servers';
import type { ChildReply, ChildRequest, CopierRequest, CopyMeasurement, CopyMethod } from './copy-protocol';
import { MIN_SYNTHETIC_MP4_BYTES, syntheticMp4Sha256 } from './copy-source';

export type { CopyMethod } from './copy-protocol';

export const MB = 1_000_000;
export const MIB = 1024 ** 2;
export const GIB = 1024 ** 3;
export const DEFAULT_COPY_BYTES = GIB;
export const QUICK_COPY_BYTES = 256 * MIB;
/** Environment variable that sets the copy size when the caller passes none (e.g. `BENCH_COPY_SIZE=2GiB`). */
export const COPY_SIZE_ENV = 'BENCH_COPY_SIZE';
export const RSS_TARGET_MB = 200;
export const THROUGHPUT_TARGET_RATIO = 0.7;

export interface CopyBenchOptions {
  quick: boolean;
  sizeBytes?: number;
}

export interface CopyMethodResult {
  method: CopyMethod;
  label: string;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  /** Peak RSS of the process that did the copy, whole life. */
  peakRssMb: number;
  /** Its peak RSS before the copy started: Node, the method's modules and clients. */
  baselineRssMb: number;
  phases: Record<string, number>;
  /** What was checked about the result. */
  verified: string;
}

export interface CopyTarget {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

export interface CopyBenchResult {
  sizeBytes: number;
  sizeLabel: string;
  quick: boolean;
  methods: CopyMethodResult[];
  targets: CopyTarget[];
  /** Facts that explain the figures (phases, what limits what). */
  notes: string[];
  /** Set when the bench did not run, with the reason; methods and targets are then empty. */
  skipped?: string;
}

export class CopyVerificationError extends Error {
  override name = 'CopyVerificationError';
}

export const METHOD_LABELS: Readonly<Record<CopyMethod, string>> = Object.freeze({
  'raw-download': 'raw download (Node) → /dev/null',
  'store-video': 'store-video → S3 (streamed)',
  'naive-buffer-put': 'naive: buffer, then PutObject',
});

/** In this order, so the physical limit is known first. */
const METHOD_ORDER: readonly CopyMethod[] = ['raw-download', 'store-video', 'naive-buffer-put'];

const SEED = 1;
const BUCKET = 'bench-videos';
const NAIVE_KEY = 'naive/bench-copy.mp4';
/** Far above what a healthy copy of 2 GiB takes on a slow disk; only there so a hung child cannot hang the bench. */
const COPIER_TIMEOUT_MS = 30 * 60_000;

// ---- arithmetic ----

const round = (value: number, digits: number): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export const toMb = (bytes: number): number => bytes / MB;

/** Throughput in MB/s (10^6 bytes per second). */
export const mbPerSecond = (bytes: number, seconds: number): number => {
  if (!(seconds > 0)) throw new RangeError(`A copy takes a positive time, not ${seconds} s`);
  return bytes / MB / seconds;
};

/** How much of the reference throughput the method reached (0.5 = half as fast). */
export const throughputRatio = (
  method: { mbPerSecond: number },
  reference: { mbPerSecond: number },
): number => {
  if (!(reference.mbPerSecond > 0)) throw new RangeError('The reference throughput must be positive');
  return method.mbPerSecond / reference.mbPerSecond;
};

const UNIT_POWERS: Readonly<Record<string, number>> = { '': 0, k: 1, m: 2, g: 3, t: 4 };

/**
 * A size as people write it, with GNU coreutils' convention: `K`/`M`/`G` and `KiB`/`MiB`/`GiB` are powers of
 * 1024, `KB`/`MB`/`GB` powers of 1000; a bare number is bytes. Case-insensitive.
 */
export const parseByteSize = (text: string): number => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?))?(b?)\s*$/i.exec(text);
  const [, amount, prefix = '', binary = '', suffixB = ''] = match ?? [];
  if (amount === undefined) throw new RangeError(`"${text}" is not a size (try 1GiB, 256MiB or 500MB)`);
  const power = UNIT_POWERS[prefix.toLowerCase()] ?? 0;
  const base = prefix !== '' && binary === '' && suffixB !== '' ? 1000 : 1024;
  const bytes = Math.round(Number(amount) * base ** power);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`"${text}" is too large`);
  return bytes;
};

/** `1 GiB`, `256 MiB` for round binary sizes, otherwise MB with one decimal. */
export const formatByteSize = (bytes: number): string => {
  if (bytes >= GIB && bytes % GIB === 0) return `${bytes / GIB} GiB`;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes < MB) return `${bytes} bytes`;
  return `${round(toMb(bytes), 1)} MB`;
};

/** The size to copy: the caller's, else the environment's, else the default for the mode. */
export const resolveCopySize = (
  options: CopyBenchOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): number => {
  const fromEnv = env[COPY_SIZE_ENV]?.trim();
  const size =
    options.sizeBytes ??
    (fromEnv ? parseByteSize(fromEnv) : options.quick ? QUICK_COPY_BYTES : DEFAULT_COPY_BYTES);
  if (!Number.isSafeInteger(size) || size < MIN_SYNTHETIC_MP4_BYTES || size > DEFAULT_MAX_VIDEO_BYTES) {
    throw new RangeError(
      `The copy size must be between ${MIN_SYNTHETIC_MP4_BYTES} bytes and ${formatByteSize(DEFAULT_MAX_VIDEO_BYTES)} ` +
        `(store-video's own limit), not ${size}`,
    );
  }
  return size;
};

/**
 * Disk the run needs at its peak: s3rver keeps the multipart parts until it has assembled the staged object,
 * then CopyObject writes the final one (2× the size at once, 3× to be safe), plus room for the bundle.
 */
export const requiredFreeBytes = (sizeBytes: number): number => 3 * sizeBytes + 256 * MIB;

/** One method's figures, from what its process measured. */
export const toMethodResult = (measurement: CopyMeasurement, verified: string): CopyMethodResult => ({
  method: measurement.method,
  label: METHOD_LABELS[measurement.method],
  bytes: measurement.bytes,
  seconds: round(measurement.seconds, 3),
  mbPerSecond: round(mbPerSecond(measurement.bytes, measurement.seconds), 1),
  peakRssMb: round(toMb(measurement.peakRssBytes), 1),
  baselineRssMb: round(toMb(measurement.baselineRssBytes), 1),
  phases: Object.fromEntries(
    Object.entries(measurement.phases).map(([name, seconds]) => [name, round(seconds, 3)]),
  ),
  verified,
});

/** The two copy targets, judged on this run's figures. */
export const evaluateCopyTargets = (
  methods: readonly CopyMethodResult[],
  sizeBytes: number,
): CopyTarget[] => {
  const storeVideo = methods.find((m) => m.method === 'store-video');
  const raw = methods.find((m) => m.method === 'raw-download');
  const size = formatByteSize(sizeBytes);
  const targets: CopyTarget[] = [];
  if (storeVideo) {
    targets.push({
      name: 'store-video peak RSS',
      target: `≤ ${RSS_TARGET_MB} MB for 1 GB`,
      value: `${storeVideo.peakRssMb.toFixed(1)} MB copying ${size}`,
      met: storeVideo.peakRssMb <= RSS_TARGET_MB,
    });
  }
  if (storeVideo && raw) {
    const ratio = throughputRatio(storeVideo, raw);
    targets.push({
      name: 'store-video throughput',
      target: `≥ ${THROUGHPUT_TARGET_RATIO * 100} % of the raw download`,
      value: `${(ratio * 100).toFixed(1)} % (${storeVideo.mbPerSecond.toFixed(1)} of ${raw.mbPerSecond.toFixed(1)} MB/s)`,
      met: ratio >= THROUGHPUT_TARGET_RATIO,
    });
  }
  return targets;
};

/** Figures that say where the time went, for the report's "what limits it". */
export const describePhases = (methods: readonly CopyMethodResult[]): string[] => {
  const notes: string[] = [];
  const storeVideo = methods.find((m) => m.method === 'store-video');
  const naive = methods.find((m) => m.method === 'naive-buffer-put');
  const { stream, publish, completeMultipartUpload, copyObject } = storeVideo?.phases ?? {};
  if (storeVideo && stream !== undefined && publish !== undefined && stream > 0) {
    const detail =
      completeMultipartUpload !== undefined && copyObject !== undefined
        ? ` (CompleteMultipartUpload ${completeMultipartUpload.toFixed(2)} s, CopyObject ${copyObject.toFixed(2)} s: ` +
          's3rver rewrites the whole file on disk for each, and hashes it again)'
        : '';
    notes.push(
      `store-video streamed the body into the staging key in ${stream.toFixed(2)} s ` +
        `(${mbPerSecond(storeVideo.bytes, stream).toFixed(1)} MB/s), then took ${publish.toFixed(2)} s to publish ` +
        `it under its final key${detail}`,
    );
  }
  const { download, upload } = naive?.phases ?? {};
  if (naive && download !== undefined && upload !== undefined && download > 0 && upload > 0) {
    notes.push(
      `naive: download into memory ${mbPerSecond(naive.bytes, download).toFixed(1)} MB/s, then one PutObject ` +
        `${mbPerSecond(naive.bytes, upload).toFixed(1)} MB/s into s3rver, one phase at a time (store-video ` +
        'downloads, hashes and uploads at once, so the source, the copier and s3rver share the cores)',
    );
  }
  return notes;
};

// ---- the run ----

const CHILD_SOURCE = fileURLToPath(new URL('./copy-child.ts', import.meta.url));

/** esbuild's ESM output has no `require`, which CommonJS dependencies of the SDK call (as in VideoFunction). */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** Bundles the child like a Lambda (ESM, minified), split so each method loads only its own modules. */
const bundleChild = async (outdir: string): Promise<string> => {
  await build({
    entryPoints: { 'copy-child': CHILD_SOURCE },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    logLevel: 'warning',
  });
  return join(outdir, 'copy-child.mjs');
};

/** A plain Node child: no TypeScript loader inherited through execArgv or NODE_OPTIONS. */
const forkChild = (bundle: string, extraEnv: Record<string, string> = {}): ChildProcess => {
  // NODE_NO_WARNINGS: the SDK's "Node 20 support ends" notice, once per child, is noise in a bench table.
  const env: Record<string, string | undefined> = { ...process.env, NODE_NO_WARNINGS: '1', ...extraEnv };
  delete env.NODE_OPTIONS;
  return fork(bundle, [], { execArgv: [], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
};

const ask = (child: ChildProcess, request: ChildRequest, timeoutMs: number): Promise<ChildReply> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The ${request.role} process did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`The ${request.role} process exited (${code ?? signal}) before answering`));
    };
    child.once('exit', onExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('message', (message: ChildReply) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(message);
    });
    child.send(request);
  });

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

interface SourceProcess {
  url: string;
  hostPort: string;
  stop(): Promise<void>;
}

const startSource = async (bundle: string, sizeBytes: number): Promise<SourceProcess> => {
  const child = forkChild(bundle);
  const reply = await ask(child, { role: 'source', sizeBytes, seed: SEED }, 30_000).catch(
    (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    },
  );
  if (!reply.ok || reply.role !== 'source') {
    child.kill('SIGKILL');
    throw new Error(`The video source did not start: ${reply.ok ? 'unexpected reply' : reply.error}`);
  }
  return {
    url: reply.url,
    hostPort: reply.hostPort,
    stop: async () => {
      const done = exited(child);
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await done;
      clearTimeout(timer);
    },
  };
};

const runCopier = async (
  bundle: string,
  request: CopierRequest,
  hostPort: string,
): Promise<CopyMeasurement> => {
  // As the local stack configures store-video: the loopback source is allowed explicitly, nothing else is.
  const child = forkChild(bundle, { [ENV.allowedVideoHosts]: hostPort });
  const done = exited(child);
  try {
    const reply = await ask(child, request, COPIER_TIMEOUT_MS);
    if (!reply.ok) throw new Error(`${METHOD_LABELS[request.method]} failed:\n${reply.error}`);
    if (reply.role !== 'copier') throw new Error(`${request.method}: unexpected reply from the copier`);
    await done;
    return reply.measurement;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
};

const sha256Of = async (body: Readable): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

interface Verification {
  s3: S3Client;
  sizeBytes: number;
  sha256: string;
}

/** Reads the stored object back: it must have the source's size and SHA-256; then deletes it. */
const verifyStored = async (measurement: CopyMeasurement, check: Verification): Promise<string> => {
  const label = METHOD_LABELS[measurement.method];
  if (measurement.bytes !== check.sizeBytes) {
    throw new CopyVerificationError(`${label}: copied ${measurement.bytes} of ${check.sizeBytes} bytes`);
  }
  if (measurement.method === 'raw-download') return `${measurement.bytes} bytes received`;
  const stored = measurement.stored;
  if (!stored) throw new CopyVerificationError(`${label}: reported no stored object`);
  const head = await check.s3.send(new HeadObjectCommand({ Bucket: stored.bucket, Key: stored.key }));
  if (head.ContentLength !== check.sizeBytes) {
    throw new CopyVerificationError(
      `${label}: s3://${stored.bucket}/${stored.key} has ${head.ContentLength} bytes, the source ${check.sizeBytes}`,
    );
  }
  const object = await check.s3.send(new GetObjectCommand({ Bucket: stored.bucket, Key: stored.key }));
  const sha256 = await sha256Of(object.Body as Readable);
  if (sha256 !== check.sha256) {
    throw new CopyVerificationError(
      `${label}: the stored object's SHA-256 ${sha256} is not the source's ${check.sha256}`,
    );
  }
  const checks = ['size', 'sha256 of the stored object'];
  if (measurement.method === 'store-video') {
    if (head.Metadata?.sha256 !== check.sha256) {
      throw new CopyVerificationError(`${label}: the object's sha256 metadata is ${head.Metadata?.sha256}`);
    }
    const staged = await check.s3.send(
      new ListObjectsV2Command({ Bucket: stored.bucket, Prefix: VIDEO_STAGING_PREFIX }),
    );
    if ((staged.KeyCount ?? 0) > 0) {
      throw new CopyVerificationError(
        `${label}: left ${staged.KeyCount} object(s) under ${VIDEO_STAGING_PREFIX}`,
      );
    }
    checks.push('sha256 metadata', 'no staging leftovers');
  }
  // 1 GB objects: free the disk before the next method writes its own.
  await check.s3.send(new DeleteObjectCommand({ Bucket: stored.bucket, Key: stored.key }));
  return `${checks.join(' + ')} match the source`;
};

/**
 * The same download by curl, when it is installed: what the machine does without Node's HTTP stack. A note
 * only; the target compares with Node's raw download, the runtime the Lambda has.
 */
const curlMbPerSecond = (url: string, sizeBytes: number): Promise<number | undefined> =>
  new Promise((resolve) => {
    execFile(
      'curl',
      ['--silent', '--output', devNull, '--write-out', '%{size_download} %{time_total}', url],
      { timeout: COPIER_TIMEOUT_MS },
      (error, stdout) => {
        const [bytes, seconds] = stdout.trim().split(' ').map(Number);
        if (error || bytes !== sizeBytes || seconds === undefined || !(seconds > 0)) resolve(undefined);
        else resolve(mbPerSecond(bytes, seconds));
      },
    );
  });

const freeBytes = async (directory: string): Promise<number> => {
  const stats = await statfs(directory);
  return stats.bavail * stats.bsize;
};

export const runCopyBench = async (options: CopyBenchOptions): Promise<CopyBenchResult> => {
  const sizeBytes = resolveCopySize(options);
  const sizeLabel = formatByteSize(sizeBytes);
  const base = { sizeBytes, sizeLabel, quick: options.quick };
  const workDir = await mkdtemp(join(tmpdir(), 'ltx-bench-copy-'));
  try {
    const free = await freeBytes(workDir);
    const needed = requiredFreeBytes(sizeBytes);
    if (free < needed) {
      const skipped =
        `copy bench skipped: it needs ${formatByteSize(needed)} free under ${tmpdir()} for a ${sizeLabel} ` +
        `copy, only ${round(toMb(free), 0)} MB are free (set ${COPY_SIZE_ENV} smaller, or free some space)`;
      return { ...base, methods: [], targets: [], notes: [], skipped };
    }

    const bundle = await bundleChild(join(workDir, 'child'));
    const sha256 = syntheticMp4Sha256(sizeBytes, SEED);
    const servers = await startLocalServers({ dataDir: join(workDir, 'data'), buckets: [BUCKET] });
    const s3 = new S3Client(servers.s3.clientConfig);
    let source: SourceProcess | undefined;
    try {
      source = await startSource(bundle, sizeBytes);
      const methods: CopyMethodResult[] = [];
      for (const method of METHOD_ORDER) {
        const measurement = await runCopier(
          bundle,
          {
            role: 'copier',
            method,
            url: source.url,
            sizeBytes,
            bucket: BUCKET,
            naiveKey: NAIVE_KEY,
            s3: servers.s3.clientConfig,
          },
          source.hostPort,
        );
        const verified = await verifyStored(measurement, { s3, sizeBytes, sha256 });
        methods.push(toMethodResult(measurement, verified));
      }
      const curl = await curlMbPerSecond(source.url, sizeBytes);
      return {
        ...base,
        methods,
        targets: evaluateCopyTargets(methods, sizeBytes),
        notes: [
          ...describePhases(methods),
          ...(curl === undefined
            ? []
            : [
                `curl downloads the same URL to /dev/null at ${curl.toFixed(1)} MB/s (not Node: for reference only)`,
              ]),
          `each method ran once in its own fresh Node ${process.version} process (esbuild bundle); the video ` +
            'server and s3rver ran in other processes, on the same machine',
        ],
      };
    } finally {
      s3.destroy();
      await source?.stop();
      await servers.stop();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
};

// ---- report ----

const pad = (text: string, width: number, right = false): string =>
  right ? text.padStart(width) : text.padEnd(width);

/** The human-readable table: one row per method, then the targets and notes. */
export const formatCopyReport = (result: CopyBenchResult): string => {
  if (result.skipped) return result.skipped;
  const lines = [
    `Copy of a ${result.sizeLabel} synthetic MP4 from a loopback HTTP server (each method in its own process)`,
    `${pad('method', 31)}${pad('MB/s', 9, true)}${pad('seconds', 10, true)}${pad('peak RSS MB', 13, true)}` +
      `${pad('baseline MB', 13, true)}  verified`,
  ];
  for (const m of result.methods) {
    lines.push(
      `${pad(m.label, 31)}${pad(m.mbPerSecond.toFixed(1), 9, true)}${pad(m.seconds.toFixed(2), 10, true)}` +
        `${pad(m.peakRssMb.toFixed(1), 13, true)}${pad(m.baselineRssMb.toFixed(1), 13, true)}  ${m.verified}`,
    );
  }
  lines.push('Targets:');
  for (const t of result.targets) {
    lines.push(`  ${t.met ? 'met    ' : 'NOT met'}  ${t.name} ${t.target}: ${t.value}`);
  }
  for (const note of result.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
};

const main = async (argv: readonly string[]): Promise<void> => {
  const sizeArg = argv.find((arg) => arg.startsWith('--size='));
  const result = await runCopyBench({
    quick: argv.includes('--quick'),
    sizeBytes: sizeArg ? parseByteSize(sizeArg.slice('--size='.length)) : undefined,
  });
  console.log(argv.includes('--json') ? JSON.stringify(result, null, 2) : formatCopyReport(result));
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
