// Opens the finished video's URL as a byte stream: SSRF-checked on every hop, connected to the vetted
// address only, redirects followed by hand, and bounded by connect and idle-read timeouts.

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { type HostResolver, type VettedTarget, type VideoUrlPolicy, vetVideoUrl } from '#adapters/url-guard';
import { UnsafeVideoUrlError, VideoIntegrityError, VideoTransferError, WorkflowError } from '#domain/errors';
import type { VideoDownload, VideoSource } from '#domain/store-video';

export interface VideoDownloadOptions {
  policy: VideoUrlPolicy;
  /** Time allowed to open the TCP connection. */
  connectTimeoutMs?: number;
  /** Longest silence allowed while we wait for the server: for the headers, then between body chunks. */
  readTimeoutMs?: number;
  maxRedirects?: number;
  /** Injected in tests; the system resolver otherwise. */
  resolve?: HostResolver;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A `lookup` that ignores DNS and answers with the address the guard already vetted. */
const vettedLookup =
  (target: VettedTarget): LookupFunction =>
  (_hostname, options, callback) => {
    if (options.all) {
      callback(null, [{ address: target.address, family: target.family }]);
    } else {
      callback(null, target.address, target.family);
    }
  };

const asTransferError = (error: unknown, what: string): WorkflowError => {
  if (error instanceof WorkflowError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new VideoTransferError(`${what}: aborted, the step is running out of time`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new VideoTransferError(`${what}: ${detail}`, { cause: error });
};

interface Timeouts {
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/** One GET to a vetted target; resolves with the response once its headers arrive. */
const get = (
  target: VettedTarget,
  timeouts: Timeouts,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const client = target.url.protocol === 'https:' ? https : http;
    const request = client.request(target.url, {
      method: 'GET',
      // A fresh socket per download: a pooled one may have been opened for another vetted address.
      agent: false,
      lookup: vettedLookup(target),
      family: target.family,
      signal,
      headers: {
        accept: 'video/mp4, application/octet-stream;q=0.9, */*;q=0.1',
        // A compressed body would not match Content-Length, the file size or the stored bytes.
        'accept-encoding': 'identity',
        'user-agent': 'ltx-video-pipeline/store-video',
      },
    });
    const connectTimer = setTimeout(
      () =>
        request.destroy(
          new VideoTransferError(
            `No connection to ${target.url.host} within ${timeouts.connectTimeoutMs} ms`,
          ),
        ),
      timeouts.connectTimeoutMs,
    );
    request.on('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => clearTimeout(connectTimer));
      else clearTimeout(connectTimer);
    });
    // Socket inactivity until the headers arrive; the body has its own idle watch (see relay()).
    request.setTimeout(timeouts.readTimeoutMs, () =>
      request.destroy(
        new VideoTransferError(`No answer from ${target.url.host} within ${timeouts.readTimeoutMs} ms`),
      ),
    );
    request.once('response', (response) => {
      clearTimeout(connectTimer);
      request.setTimeout(0);
      resolve(response);
    });
    request.on('error', (error) => {
      clearTimeout(connectTimer);
      reject(asTransferError(error, `Downloading the video from ${target.url.host} failed`));
    });
    request.end();
  });

/**
 * Streams the response body, translating its errors, and destroys the response when no chunk arrives
 * within `readTimeoutMs` while we are waiting for one. Time spent waiting on our consumer (S3 applying
 * backpressure) does not count: that is why this is not a socket timeout.
 */
async function* relay(
  response: IncomingMessage,
  readTimeoutMs: number,
  host: string,
): AsyncGenerator<Buffer> {
  const chunks = response[Symbol.asyncIterator]();
  try {
    while (true) {
      const timer = setTimeout(
        () =>
          response.destroy(
            new VideoTransferError(`The video download from ${host} stalled for ${readTimeoutMs} ms`),
          ),
        readTimeoutMs,
      );
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw asTransferError(error, `The video download from ${host} broke off`);
      } finally {
        clearTimeout(timer);
      }
      if (next.done) {
        // Without Content-Length or chunking, "complete" is all HTTP can tell us about truncation.
        if (!response.complete) throw new VideoTransferError(`The video download from ${host} ended early`);
        return;
      }
      yield next.value;
    }
  } finally {
    // Consumer gave up (or we failed): release the socket.
    if (!response.complete) response.destroy();
  }
}

const parseContentLength = (header: string | undefined): number | undefined => {
  if (header === undefined) return undefined;
  const value = Number(header);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VideoTransferError(`The video server sent an invalid Content-Length "${header}"`);
  }
  return value;
};

/** Opens the video URL; the caller must consume or destroy `body`. */
export const openVideoDownload = async (
  url: string,
  options: VideoDownloadOptions,
  signal?: AbortSignal,
): Promise<VideoDownload> => {
  const timeouts: Timeouts = {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    readTimeoutMs: options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
  };
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let current: string | URL = url;
  for (let hop = 0; ; hop += 1) {
    const target = await vetVideoUrl(current, options.policy, options.resolve);
    const response = await get(target, timeouts, signal);
    const status = response.statusCode ?? 0;

    if (REDIRECT_STATUSES.has(status)) {
      response.destroy();
      const location = response.headers.location;
      if (location === undefined) {
        throw new VideoTransferError(`The video server answered ${status} without a Location`);
      }
      if (hop >= maxRedirects) {
        throw new UnsafeVideoUrlError(`The video URL redirected more than ${maxRedirects} times`);
      }
      current = new URL(location, target.url);
      continue;
    }
    if (status !== 200) {
      response.destroy();
      throw new VideoTransferError(`The video server answered HTTP ${status} for ${target.url.host}`);
    }
    const encoding = response.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      response.destroy();
      throw new VideoIntegrityError(
        `The video arrived with Content-Encoding "${encoding}", not the file's own bytes`,
      );
    }
    let contentLength: number | undefined;
    try {
      contentLength = parseContentLength(response.headers['content-length']);
    } catch (error) {
      response.destroy();
      throw error;
    }
    const body = Readable.from(relay(response, timeouts.readTimeoutMs, target.url.host), {
      objectMode: false,
    });
    // relay()'s own cleanup never runs if the body is destroyed before its first read.
    body.once('close', () => {
      if (!response.complete) response.destroy();
    });
    return {
      body,
      contentType: response.headers['content-type'],
      contentLength,
    };
  }
};

/** The VideoSource the use case depends on, bound to one policy and set of timeouts. */
export const createVideoSource = (options: VideoDownloadOptions): VideoSource => ({
  open: (url, signal) => openVideoDownload(url, options, signal),
});
