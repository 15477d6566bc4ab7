// Turns a Reply into bytes on the socket, applying the transport-level faults: slow answers, resets,
// truncated or corrupted bodies, wrong content types, empty or non-JSON 200s.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import type { Fault } from '#emulator/control';
import type { Headers, Reply } from '#emulator/replies';

export interface TransportEvents {
  onStatus(status: number): void;
  onReset(): void;
  /** A cancellable delay (cancelled when the emulator stops). */
  sleep(ms: number): Promise<void>;
  /**
   * Every byte of an output file was handed to the response, intact (not for a truncated or corrupted
   * body). Counted as the bytes pass, not on 'finish': a client that closes the moment it has them all can
   * beat both the last write's callback and the file stream's own end.
   */
  onFileWritten?(): void;
}

/** Destroys the connection with a TCP reset where Node supports it: the client sees ECONNRESET. */
export const resetConnection = (socket: Socket | null): void => {
  if (socket === null) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
};

const NON_JSON_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

/** Flips bytes so the body keeps its length but loses its meaning, starting with any MP4 signature. */
const corruptAt = (offset: number): boolean => offset < 16 || offset % 4096 === 0;

const corruptBuffer = (buffer: Buffer): Buffer => {
  const copy = Buffer.from(buffer);
  for (let i = 0; i < copy.length; i += 1) if (corruptAt(i)) copy[i] = (copy[i] ?? 0) ^ 0xff;
  return copy;
};

const corruptingStream = (): Transform => {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const copy = Buffer.from(chunk);
      for (let i = 0; i < copy.length; i += 1) if (corruptAt(offset + i)) copy[i] = (copy[i] ?? 0) ^ 0xff;
      offset += copy.length;
      done(null, copy);
    },
  });
};

const bodyOf = (reply: Reply): { contentType: string; bytes: Buffer } | undefined => {
  switch (reply.kind) {
    case 'json':
      return { contentType: 'application/json', bytes: Buffer.from(JSON.stringify(reply.body)) };
    case 'html':
      return { contentType: 'text/html', bytes: Buffer.from(reply.html) };
    default:
      return undefined;
  }
};

export const deliver = async (
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  fault: Fault | undefined,
  events: TransportEvents,
): Promise<void> => {
  if (fault?.kind === 'slow') await events.sleep(fault.delayMs);
  if (res.destroyed) return;
  if (
    fault?.kind === 'reset' ||
    fault?.kind === 'reset-after-accept' ||
    fault?.kind === 'reset-before-accept'
  ) {
    events.onReset();
    resetConnection(req.socket);
    return;
  }
  if (fault?.kind === 'empty-body' || fault?.kind === 'non-json') {
    const bytes = Buffer.from(fault.kind === 'empty-body' ? '' : NON_JSON_BODY);
    const contentType =
      fault.kind === 'empty-body'
        ? reply.kind === 'file'
          ? reply.contentType
          : 'application/json'
        : 'text/plain';
    events.onStatus(200);
    res.writeHead(200, { 'content-type': contentType, 'content-length': String(bytes.length) });
    res.end(bytes);
    return;
  }

  const headOnly = req.method === 'HEAD';
  const status = reply.status;
  const headers: Headers = { ...(reply.headers ?? {}) };
  const inline = bodyOf(reply);
  const size = reply.kind === 'file' ? reply.file.size : (inline?.bytes.length ?? 0);
  const contentType = reply.kind === 'file' ? reply.contentType : inline?.contentType;
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (fault?.kind === 'wrong-content-type') headers['content-type'] = fault.contentType;
  headers['content-length'] = String(size);

  events.onStatus(status);
  res.writeHead(status, headers);
  if (headOnly || size === 0) {
    res.end();
    return;
  }

  const truncateTo =
    fault?.kind === 'truncate'
      ? Math.max(0, Math.min(fault.bytes ?? Math.floor(size / 2), size - 1))
      : undefined;
  const corrupt = fault?.kind === 'corrupt';

  if (reply.kind === 'file') {
    if (truncateTo === 0) {
      res.flushHeaders();
      req.socket.destroy();
      return;
    }
    const source = createReadStream(reply.file.path, truncateTo === undefined ? {} : { end: truncateTo - 1 });
    if (!corrupt && truncateTo === undefined && events.onFileWritten !== undefined) {
      const written = events.onFileWritten;
      let bytes = 0;
      source.on('data', (chunk) => {
        bytes += chunk.length;
        if (bytes === size) written();
      });
    }
    const stream = corrupt ? source.pipe(corruptingStream()) : source;
    stream.on('error', () => res.destroy());
    if (truncateTo === undefined) {
      stream.pipe(res);
      return;
    }
    // Full Content-Length announced, fewer bytes sent, then the connection closes: a short read.
    stream.pipe(res, { end: false });
    stream.on('end', () => res.socket?.end(() => res.socket?.destroy()));
    return;
  }

  const bytes = corrupt && inline ? corruptBuffer(inline.bytes) : (inline?.bytes ?? Buffer.alloc(0));
  if (truncateTo === undefined) {
    res.end(bytes);
    return;
  }
  res.write(bytes.subarray(0, truncateTo), () => res.socket?.end(() => res.socket?.destroy()));
};
