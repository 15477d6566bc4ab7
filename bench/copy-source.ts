// The copy bench's video: a synthetic MP4 of any size (a real `ftyp` box and `mdat` header, then
// deterministic pseudo-random bytes made one block at a time, so a 1 GB file never sits in memory),
// and a loopback HTTP server that serves it the way a CDN would.
import { createHash } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Payload bytes are produced (and written to the socket) in blocks of this size. */
export const SYNTHETIC_BLOCK_BYTES = 1024 * 1024;
export const SYNTHETIC_CONTENT_TYPE = 'video/mp4';
export const SYNTHETIC_VIDEO_PATH = '/video.mp4';

/** `ftyp` box: isom major brand, minor version 0x200, compatible isom/iso2/avc1/mp41 (what ffmpeg writes). */
const FTYP_BOX = Buffer.concat([
  Buffer.from([0, 0, 0, 32]),
  Buffer.from('ftypisom', 'latin1'),
  Buffer.from([0, 0, 2, 0]),
  Buffer.from('isomiso2avc1mp41', 'latin1'),
]);

const MAX_32BIT_BOX = 0xffff_ffff;

/**
 * The file's first bytes: the `ftyp` box, then the header of one `mdat` box that runs to the end of the file
 * (a 64-bit "largesize" header beyond 4 GiB), so the file parses as ISO-BMFF box by box.
 */
export const syntheticMp4Header = (sizeBytes: number): Buffer => {
  const mdatBytes = sizeBytes - FTYP_BOX.length;
  if (mdatBytes <= MAX_32BIT_BOX) {
    const mdat = Buffer.alloc(8);
    mdat.writeUInt32BE(Math.max(0, mdatBytes), 0);
    mdat.write('mdat', 4, 'latin1');
    return Buffer.concat([FTYP_BOX, mdat]);
  }
  const mdat = Buffer.alloc(16);
  mdat.writeUInt32BE(1, 0);
  mdat.write('mdat', 4, 'latin1');
  mdat.writeBigUInt64BE(BigInt(mdatBytes), 8);
  return Buffer.concat([FTYP_BOX, mdat]);
};

/** The smallest synthetic file: the two box headers and nothing in the `mdat`. */
export const MIN_SYNTHETIC_MP4_BYTES = syntheticMp4Header(FTYP_BOX.length + 8).length;

const assertSize = (sizeBytes: number): void => {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_SYNTHETIC_MP4_BYTES) {
    throw new RangeError(
      `A synthetic MP4 needs a whole number of at least ${MIN_SYNTHETIC_MP4_BYTES} bytes, not ${sizeBytes}`,
    );
  }
};

/** One block of xorshift32 output: incompressible enough that no layer can cheat by compressing it. */
const noiseBlock = (seed: number): Buffer => {
  const block = Buffer.alloc(SYNTHETIC_BLOCK_BYTES);
  let state = seed >>> 0 || 0x9e3779b9;
  for (let offset = 0; offset < block.length; offset += 4) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    block.writeUInt32LE(state, offset);
  }
  return block;
};

/**
 * The file as a sequence of fresh Buffers (the header, then blocks of at most SYNTHETIC_BLOCK_BYTES).
 * Every block is the same noise stamped with its own index in its first 8 bytes, so no two blocks are equal
 * and a copy that drops, repeats or reorders blocks changes the SHA-256. Fresh buffers, because a socket
 * may still hold the previous one when the next is made.
 */
export function* syntheticMp4Chunks(sizeBytes: number, seed = 1): Generator<Buffer> {
  assertSize(sizeBytes);
  const header = syntheticMp4Header(sizeBytes);
  yield header;
  const noise = noiseBlock(seed);
  const stamp = Buffer.alloc(8);
  let remaining = sizeBytes - header.length;
  for (let index = 0n; remaining > 0; index += 1n) {
    const length = Math.min(SYNTHETIC_BLOCK_BYTES, remaining);
    const chunk = Buffer.allocUnsafe(length);
    noise.copy(chunk, 0, 0, length);
    stamp.writeBigUInt64BE(index);
    stamp.copy(chunk, 0, 0, Math.min(stamp.length, length));
    remaining -= length;
    yield chunk;
  }
}

/** The hex SHA-256 the synthetic file of this size and seed has; what a correct copy must store. */
export const syntheticMp4Sha256 = (sizeBytes: number, seed = 1): string => {
  const hash = createHash('sha256');
  for (const chunk of syntheticMp4Chunks(sizeBytes, seed)) hash.update(chunk);
  return hash.digest('hex');
};

export interface SyntheticVideoServer {
  /** `http://127.0.0.1:<port>/video.mp4` */
  url: string;
  /** `127.0.0.1:<port>`, the form LTX_ALLOWED_VIDEO_HOSTS takes. */
  hostPort: string;
  close(): Promise<void>;
}

/**
 * Serves the synthetic MP4 at SYNTHETIC_VIDEO_PATH on 127.0.0.1 (free port), with Content-Length and
 * Content-Type video/mp4, generated per request and written with backpressure.
 */
export const startSyntheticVideoServer = async (options: {
  sizeBytes: number;
  seed?: number;
}): Promise<SyntheticVideoServer> => {
  assertSize(options.sizeBytes);
  const server: Server = http.createServer((request, response) => {
    if (request.url !== SYNTHETIC_VIDEO_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, {
      'content-type': SYNTHETIC_CONTENT_TYPE,
      'content-length': String(options.sizeBytes),
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const body = Readable.from(syntheticMp4Chunks(options.sizeBytes, options.seed), {
      objectMode: false,
      highWaterMark: SYNTHETIC_BLOCK_BYTES,
    });
    // A client that hangs up early is the client's business; the stream is torn down either way.
    pipeline(body, response).catch(() => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostPort = `127.0.0.1:${port}`;
  return {
    url: `http://${hostPort}${SYNTHETIC_VIDEO_PATH}`,
    hostPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
