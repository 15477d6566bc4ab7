// Test fixtures for the store-video path: a real s3rver in a temp dir, a loopback HTTP server that serves
// video bodies (good, truncated, mislabelled, generated on the fly), MP4-like byte makers, and real MP4s
// rendered by the emulator's ffmpeg recipe.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { DEFAULT_CACHE_DIR } from '#emulator/index';
import { VideoLibrary, type VideoVariant } from '#emulator/videos';

const library = new VideoLibrary({ cacheDir: DEFAULT_CACHE_DIR });

/** A real MP4 exactly as the emulator serves it (H.264, AAC when `audio`, faststart), cached on disk. */
export const realMp4 = async (variant: VideoVariant): Promise<Buffer> =>
  readFile((await library.ensure(variant)).path);

/** The video the tests ask for by default: 1080p, 6 s, with audio. */
export const DEFAULT_VARIANT: VideoVariant = { resolution: '1080p', duration: 6, audio: true };

/** Flips bytes the way the emulator's `corrupt` fault does: same length, no MP4 signature. */
export const corruptLikeEmulator = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(bytes);
  for (let i = 0; i < copy.length; i += 1) if (i < 16 || i % 4096 === 0) copy[i] = (copy[i] ?? 0) ^ 0xff;
  return copy;
};

/**
 * The head of a `totalSize`-byte MP4: a real (faststart) file's boxes before its mdat, then an mdat header
 * sized so the boxes tile the whole file. Streamed before pseudo-random payload, it makes a large body
 * whose structure, moov and duration are those of `real` — what the verifier reads without the samples.
 */
export const paddedMp4Head = (real: Buffer, totalSize: number): Buffer => {
  let offset = 0;
  while (offset + 8 <= real.length) {
    const size = real.readUInt32BE(offset);
    if (real.toString('latin1', offset + 4, offset + 8) === 'mdat') break;
    if (size < 8) throw new Error(`unexpected box size ${size} at ${offset}`);
    offset += size;
  }
  const head = Buffer.alloc(offset + 8);
  real.copy(head, 0, 0, offset);
  head.writeUInt32BE(totalSize - offset, offset);
  head.write('mdat', offset + 4, 'latin1');
  return head;
};

/** An ISO-BMFF `ftyp` box (isom brand) followed by `size - 32` pseudo-random bytes. */
export const mp4Like = (size: number, seed = 1): Buffer => {
  const body = Buffer.alloc(size);
  fillMp4Like(body, 0, seed);
  return body;
};

const FTYP = Buffer.from([
  0x00, 0x00, 0x00, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0x00, 0x00, 0x02, 0x00, 0x69, 0x73,
  0x6f, 0x6d, 0x69, 0x73, 0x6f, 0x32, 0x61, 0x76, 0x63, 0x31, 0x6d, 0x70, 0x34, 0x31,
]);

/** Fills `chunk` as the bytes at `offset` of a seeded MP4-like file (cheap xorshift, deterministic). */
export const fillMp4Like = (chunk: Buffer, offset: number, seed: number): void => {
  for (let i = 0; i < chunk.length; i += 1) {
    const at = offset + i;
    if (at < FTYP.length) {
      chunk[i] = FTYP[at] ?? 0;
    } else {
      let x = (at ^ (seed * 0x9e3779b1)) >>> 0;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = x & 0xff;
    }
  }
};

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface LocalS3 {
  /** A client wired for s3rver; the checksum settings keep it from storing aws-chunked framing. */
  client: S3Client;
  config: S3ClientConfig;
  bucket: string;
  keys(prefix?: string): Promise<string[]>;
  object(key: string): Promise<{ bytes: Buffer; contentType?: string; metadata: Record<string, string> }>;
  head(
    key: string,
  ): Promise<{ contentLength?: number; contentType?: string; metadata: Record<string, string> }>;
  close(): Promise<void>;
}

export const startLocalS3 = async (bucket = 'videos'): Promise<LocalS3> => {
  const directory = await mkdtemp(join(tmpdir(), 'store-video-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const config: S3ClientConfig = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  const client = new S3Client(config);
  return {
    client,
    config,
    bucket,
    keys: async (prefix = '') => {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listed.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
    },
    object: async (key) => {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
      return { bytes, contentType: got.ContentType, metadata: got.Metadata ?? {} };
    },
    head: async (key) => {
      const got = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { contentLength: got.ContentLength, contentType: got.ContentType, metadata: got.Metadata ?? {} };
    },
    close: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
};

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

export interface VideoServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** `127.0.0.1:PORT`, as LTX_ALLOWED_VIDEO_HOSTS lists it. */
  hostPort: string;
  port: number;
  /** Every request's path and Host header, in order. */
  requests: { path: string; host: string | undefined }[];
  route(path: string, route: Route): void;
  close(): Promise<void>;
}

export const startVideoServer = async (): Promise<VideoServer> => {
  const routes = new Map<string, Route>();
  const requests: VideoServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({ path, host: request.headers.host });
    const route = routes.get(path);
    if (route) route(request, response);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    port,
    requests,
    route: (path, route) => routes.set(path, route),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Serves `body` whole, with the given headers (Content-Length unless told otherwise). */
export const serveBytes =
  (body: Buffer, headers: Record<string, string | number> = { 'content-type': 'video/mp4' }): Route =>
  (_request, response) => {
    response.writeHead(200, { 'content-length': body.length, ...headers });
    response.end(body);
  };

/** Announces the whole body's length, sends the first `sent` bytes, then drops the connection. */
export const serveTruncated =
  (body: Buffer, sent: number): Route =>
  (_request, response) => {
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length });
    response.write(body.subarray(0, sent), () => {
      setTimeout(() => response.socket?.destroy(), 20);
    });
  };

/**
 * Streams a `size`-byte MP4-like body generated on the fly (never held in memory), honouring backpressure;
 * `head` (see paddedMp4Head) replaces its first bytes.
 * `digest` resolves with the sha256 of what was sent.
 */
export const serveGenerated = (
  size: number,
  seed = 7,
  head?: Buffer,
): { route: Route; digest: Promise<string> } => {
  let resolveDigest: (hex: string) => void = () => {};
  const digest = new Promise<string>((resolve) => {
    resolveDigest = resolve;
  });
  const route: Route = (_request, response) => {
    const hash = createHash('sha256');
    const chunkSize = 64 * 1024;
    let offset = 0;
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': size });
    const pump = (): void => {
      while (offset < size) {
        const chunk = Buffer.alloc(Math.min(chunkSize, size - offset));
        fillMp4Like(chunk, offset, seed);
        if (head !== undefined && offset < head.length) head.copy(chunk, 0, offset);
        hash.update(chunk);
        offset += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      response.end();
      resolveDigest(hash.digest('hex'));
    };
    pump();
  };
  return { route, digest };
};
