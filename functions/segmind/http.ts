// One HTTP exchange with Segmind over node:http(s), with the facts the error mapping needs: did the
// connection open, was the whole request handed to the OS, did an answer start, was its body complete.
//
// Why node:http(s) and not the global fetch: fetch has one AbortSignal for the whole exchange, so it
// cannot tell "never connected" (a submit that certainly created nothing) from "sent, then no answer"
// (a submit that may have created a paid job), nor give the connect phase its own, shorter timeout.
// Here the connect timeout runs until the socket is connected (TLS included), the read timeout from
// then until the last byte of the answer, and `requestSent` records that the body was fully written.
//
// Every exchange uses a fresh connection (no keep-alive agent): a Lambda polls minutes apart and is
// frozen in between, so a pooled socket would mostly be a stale one whose reset would look like an
// ambiguous submit. At 5–50 requests per minute the extra handshake costs nothing that matters.
import http from 'node:http';
import https from 'node:https';

export interface HttpExchange {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  maxResponseBytes: number;
}

/**
 * How much of the answer's body we have: all of it, or not, and why not. A body that is not complete is
 * empty or partial and must not be parsed.
 */
export type BodyState = 'complete' | 'too-large' | 'cut' | 'timed-out';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  bodyState: BodyState;
}

export type TransportFailureKind = 'connect-timeout' | 'read-timeout' | 'network';

/** No answer at all (not even a status line). `requestSent` says whether the whole request left us. */
export class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  constructor(
    readonly kind: TransportFailureKind,
    readonly connected: boolean,
    readonly requestSent: boolean,
    cause?: unknown,
  ) {
    super(describe(kind, cause), { cause });
  }
}

const describe = (kind: TransportFailureKind, cause: unknown): string => {
  if (kind === 'connect-timeout') return 'no connection within the connect timeout';
  if (kind === 'read-timeout') return 'no answer within the read timeout';
  const code =
    cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return `network error${code === undefined ? '' : ` ${code}`}`;
};

const declaredLength = (headers: http.IncomingHttpHeaders): number | undefined => {
  const raw = headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
};

/**
 * Resolves once an answer's fate is known — even an error status or a broken body, which the caller
 * classifies — and rejects with TransportFailure only when no status line arrived.
 */
export const exchange = (request: HttpExchange): Promise<HttpAnswer> =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const secure = request.url.protocol === 'https:';
    const transport = secure ? https : http;
    const body = request.body ?? Buffer.alloc(0);
    let connected = false;
    let requestSent = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let answer: ((state: BodyState) => void) | undefined;

    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
      req.destroy();
    };
    const fail = (kind: TransportFailureKind, cause?: unknown): void =>
      settle(() => reject(new TransportFailure(kind, connected, requestSent, cause)));

    const req = transport.request(request.url, {
      method: request.method,
      headers: { ...request.headers, 'content-length': String(body.length) },
      agent: false,
    });

    timer = setTimeout(() => fail('connect-timeout'), request.connectTimeoutMs);
    req.on('socket', (socket) => {
      const onConnected = (): void => {
        connected = true;
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (answer === undefined) fail('read-timeout');
          else answer('timed-out');
        }, request.readTimeoutMs);
      };
      // A fresh socket is always still connecting here; for https "connected" means the TLS handshake is done.
      socket.once(secure ? 'secureConnect' : 'connect', onConnected);
    });
    req.on('error', (error) => {
      // Once a status line arrived, a broken connection is a broken body: the status still tells us something.
      if (answer === undefined) fail('network', error);
      else answer('cut');
    });

    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      answer = (bodyState) =>
        settle(() =>
          resolve({
            status,
            headers: res.headers,
            body: bodyState === 'complete' ? Buffer.concat(chunks) : Buffer.alloc(0),
            bodyState,
          }),
        );
      const length = declaredLength(res.headers);
      if (length !== undefined && length > request.maxResponseBytes) {
        answer('too-large');
        return;
      }
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxResponseBytes) answer?.('too-large');
        else chunks.push(chunk);
      });
      res.on('end', () => answer?.('complete'));
      res.on('error', () => answer?.('cut'));
      res.on('close', () => {
        if (!res.complete) answer?.('cut');
      });
    });

    // The callback runs on 'finish': headers and body handed to the OS. From then on, the server may act on it.
    req.end(body, () => {
      requestSent = true;
    });
  });
