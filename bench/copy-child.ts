// A process forked by the copy bench: either the synthetic video's server, or one copier that runs one
// method once and reports its own wall time and peak RSS. The bench bundles this file with esbuild (as CDK
// bundles a Lambda), so a copier's RSS is Node plus the code that method loads, not a TypeScript loader.
import { createWriteStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import { devNull } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import type {
  ChildReply,
  ChildRequest,
  CopierRequest,
  CopyMeasurement,
  CopyMethod,
  SourceRequest,
} from './copy-protocol';
import { startSyntheticVideoServer } from './copy-source';

/** Peak RSS of this process so far; Linux reports maxRSS in KiB. */
const peakRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/** A method, split in two: `prepare` loads its modules and clients (not timed), the returned `run` copies. */
type Prepared = () => Promise<{
  bytes: number;
  phases: Record<string, number>;
  stored?: CopyMeasurement['stored'];
}>;

const get = (url: string): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      if (response.statusCode !== 200) {
        response.destroy();
        reject(new Error(`GET ${url} answered ${response.statusCode}`));
        return;
      }
      resolve(response);
    });
    request.once('error', reject);
  });

/** The physical limit: Node's own HTTP client into /dev/null, nothing checked, nothing kept. */
const prepareRawDownload =
  async (request: CopierRequest): Promise<Prepared> =>
  async () => {
    const response = await get(request.url);
    const sink = createWriteStream(devNull);
    await pipeline(response, sink);
    return { bytes: sink.bytesWritten, phases: {} };
  };

/** The project's code path: storeVideo with the real download adapter and S3VideoSink, defaults as on AWS. */
const prepareStoreVideo = async (request: CopierRequest): Promise<Prepared> => {
  const [
    { configureAwsClients, s3Client },
    { ENV },
    { parseAllowedHosts },
    { createVideoSource },
    upload,
    domain,
  ] = await Promise.all([
    import('#commons/aws-clients'),
    import('#commons/env'),
    import('#adapters/url-guard'),
    import('#adapters/video-download'),
    import('#adapters/video-upload'),
    import('#domain/store-video'),
  ]);
  // As the local stack wires it: the loopback source allowed by configuration, S3 clients pointed at s3rver.
  configureAwsClients({ s3: request.s3 });
  const source = createVideoSource({
    policy: { allowedHosts: parseAllowedHosts(process.env[ENV.allowedVideoHosts]) },
  });
  // Instrumentation only: when each S3 call of the publish step ran, to say where the time went.
  const client = s3Client();
  const calls: { command: string; startedAt: number; endedAt: number }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const startedAt = performance.now();
      try {
        return await next(args);
      } finally {
        calls.push({ command: context.commandName ?? 'unknown', startedAt, endedAt: performance.now() });
      }
    },
    { step: 'initialize', name: 'benchCallTiming' },
  );
  const seconds = (command: string): number =>
    calls
      .filter((call) => call.command === command)
      .reduce((sum, call) => sum + (call.endedAt - call.startedAt) / 1000, 0);
  let bodyEndedAt: number | undefined;
  const deps = {
    // The job store is not what is measured: a no-op marker keeps DynamoDB out of the figures.
    jobs: { markStoring: async () => undefined },
    source: {
      open: async (url: string, signal?: AbortSignal) => {
        const download = await source.open(url, signal);
        download.body.once('end', () => {
          bodyEndedAt = performance.now();
        });
        return download;
      },
    },
    sink: new upload.S3VideoSink(client),
    bucket: request.bucket,
    now: () => new Date(),
  };
  return async () => {
    const startedAt = performance.now();
    const stored = await domain.storeVideo(
      {
        jobId: 'bench-copy',
        segmindRequestId: 'bench-copy',
        videoUrl: request.url,
        fileSize: request.sizeBytes,
      },
      deps,
    );
    const endedAt = performance.now();
    const streamedUntil = bodyEndedAt ?? endedAt;
    return {
      bytes: stored.bytes,
      // Streaming the body into the staging key, then publishing it under its final key: the last parts,
      // CompleteMultipartUpload, CopyObject to the final key, delete of the staged copy.
      phases: {
        stream: (streamedUntil - startedAt) / 1000,
        publish: (endedAt - streamedUntil) / 1000,
        completeMultipartUpload: seconds('CompleteMultipartUploadCommand'),
        copyObject: seconds('CopyObjectCommand'),
        deleteObject: seconds('DeleteObjectCommand'),
      },
      stored: { bucket: stored.bucket, key: stored.key },
    };
  };
};

/** The obvious alternative: fetch the whole body into one Buffer, then one PutObject. */
const prepareNaiveBufferPut = async (request: CopierRequest): Promise<Prepared> => {
  const { PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client(request.s3);
  return async () => {
    const startedAt = performance.now();
    const response = await fetch(request.url);
    if (!response.ok) throw new Error(`GET ${request.url} answered ${response.status}`);
    const body = Buffer.from(await response.arrayBuffer());
    const downloadedAt = performance.now();
    await client.send(
      new PutObjectCommand({
        Bucket: request.bucket,
        Key: request.naiveKey,
        Body: body,
        ContentType: 'video/mp4',
      }),
    );
    const endedAt = performance.now();
    return {
      bytes: body.length,
      phases: { download: (downloadedAt - startedAt) / 1000, upload: (endedAt - downloadedAt) / 1000 },
      stored: { bucket: request.bucket, key: request.naiveKey },
    };
  };
};

const METHODS: Record<CopyMethod, (request: CopierRequest) => Promise<Prepared>> = {
  'raw-download': prepareRawDownload,
  'store-video': prepareStoreVideo,
  'naive-buffer-put': prepareNaiveBufferPut,
};

const copy = async (request: CopierRequest): Promise<CopyMeasurement> => {
  const run = await METHODS[request.method](request);
  const baselineRssBytes = peakRssBytes();
  const startedAt = performance.now();
  const result = await run();
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    method: request.method,
    bytes: result.bytes,
    seconds,
    baselineRssBytes,
    peakRssBytes: peakRssBytes(),
    phases: result.phases,
    stored: result.stored,
  };
};

const serve = async (request: SourceRequest): Promise<ChildReply> => {
  const server = await startSyntheticVideoServer({ sizeBytes: request.sizeBytes, seed: request.seed });
  // The parent going away (or disconnecting on purpose) is the signal to stop serving.
  process.once('disconnect', () => {
    void server.close().finally(() => process.exit(0));
  });
  return { ok: true, role: 'source', url: server.url, hostPort: server.hostPort };
};

const reply = (message: ChildReply): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });

const handle = async (request: ChildRequest): Promise<void> => {
  if (request.role === 'source') {
    await reply(await serve(request));
    return;
  }
  const measurement = await copy(request);
  await reply({ ok: true, role: 'copier', measurement });
  // Keep-alive sockets of the SDK would keep a finished copier alive.
  process.exit(0);
};

if (!process.send) {
  console.error('bench/copy-child is forked by bench/copy.ts; it is not meant to be run by hand');
  process.exit(2);
}
process.once('message', (request: ChildRequest) => {
  handle(request).catch(async (error: unknown) => {
    await reply({
      ok: false,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exit(1);
  });
});
