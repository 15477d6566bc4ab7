// HTTP routing: Segmind's paths, the control API, and Segmind's gateway behaviour for everything else
// (404 JSON for unknown models and paths, 405 with an HTML page for a wrong method on a known path).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CONTROL_PREFIX, type Endpoint, type Fault, type SubmitAttempt } from '#emulator/control';
import { controlRoute } from '#emulator/control-routes';
import type { EmulatorCore } from '#emulator/emulator';
import type { FaultContext } from '#emulator/faults';
import { jobState } from '#emulator/jobs';
import { gatewayPage, json, jsonError, type Reply, reasonPhrase } from '#emulator/replies';
import {
  credits,
  download,
  MAX_BODY_BYTES,
  MODEL,
  rateLimited,
  result,
  type SegmindCall,
  status,
  submit,
} from '#emulator/segmind-routes';
import { deliver, resetConnection, type TransportEvents } from '#emulator/transport';

type Route =
  | { kind: 'endpoint'; endpoint: Endpoint; id?: string }
  | { kind: 'unknown-model' }
  | { kind: 'wrong-method' }
  | { kind: 'not-found' };

const REQUEST_STATUS = /^\/v2\/requests\/([^/]+)\/status$/;
const REQUEST_RESULT = /^\/v[12]\/requests\/([^/]+)$/;
const DOWNLOAD = /^\/generations\/([0-9a-f]+)\.mp4$/;
const MODEL_PATH = /^\/v[12]\/([^/]+)$/;

const decode = (segment: string | undefined): string => {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
};

export const resolveRoute = (method: string, path: string): Route => {
  const only = (allowed: string[], route: Route): Route =>
    allowed.includes(method) ? route : { kind: 'wrong-method' };
  if (path === `/v2/${MODEL}`) return only(['POST'], { kind: 'endpoint', endpoint: 'submit' });
  if (path === '/v1/get-user-credits') return only(['GET'], { kind: 'endpoint', endpoint: 'credits' });
  const statusMatch = REQUEST_STATUS.exec(path);
  if (statusMatch) return only(['GET'], { kind: 'endpoint', endpoint: 'status', id: decode(statusMatch[1]) });
  const resultMatch = REQUEST_RESULT.exec(path);
  if (resultMatch) return only(['GET'], { kind: 'endpoint', endpoint: 'result', id: decode(resultMatch[1]) });
  const downloadMatch = DOWNLOAD.exec(path);
  if (downloadMatch)
    return only(['GET', 'HEAD'], { kind: 'endpoint', endpoint: 'download', id: downloadMatch[1] });
  if (MODEL_PATH.test(path)) return { kind: 'unknown-model' };
  return { kind: 'not-found' };
};

const bodyReader = (req: IncomingMessage): (() => Promise<Buffer | undefined>) => {
  let read: Promise<Buffer | undefined> | undefined;
  return () => {
    read ??= new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
      req.on('error', reject);
    });
    return read;
  };
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The request id a fault may be aimed at, and whether a result would be COMPLETED (for missing-video-object). */
const faultContext = (core: EmulatorCore, endpoint: Endpoint, id: string | undefined): FaultContext => {
  if (id === undefined) return { endpoint };
  const job = endpoint === 'download' ? core.store.byVideoToken(id) : core.store.get(id);
  if (job === undefined) return { endpoint, requestId: id };
  const completed = endpoint === 'result' && jobState(job, core.clock.now()).status === 'COMPLETED';
  return { endpoint, requestId: job.requestId, completed };
};

const AFTER_ACCEPT = new Set<string>(['reset-after-accept', 'error-after-accept']);

/** Counts a fault that shaped this request (per endpoint, per request id, on the submit attempt). */
const noteFault = (
  core: EmulatorCore,
  endpoint: Endpoint,
  fault: Fault,
  requestId: string | undefined,
  attempt: SubmitAttempt | undefined,
): void => {
  core.ledger.fault(endpoint, fault.kind, requestId);
  if (attempt !== undefined) attempt.fault = fault.kind;
};

/** Faults after which the client still holds the answer as the route made it. */
const INTACT_UNDER = new Set<string | undefined>([undefined, 'extra-fields', 'slow', 'missing-video-object']);

const errorReply = (status: number, body: 'html' | 'json' | 'empty'): Reply => {
  if (body === 'html') return gatewayPage(status);
  if (body === 'json') return jsonError(status, reasonPhrase(status));
  return { kind: 'empty', status };
};

const promptOf = (raw: Buffer | undefined): string | null => {
  if (raw === undefined) return null;
  try {
    const prompt: unknown = Reflect.get(JSON.parse(raw.toString('utf8')) as object, 'prompt');
    return typeof prompt === 'string' ? prompt : null;
  } catch {
    return null;
  }
};

const createdRequestId = (reply: Reply): string | undefined => {
  if (reply.kind !== 'json' || reply.status !== 200) return undefined;
  const id = reply.body.request_id;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Calls `sent` once the whole answer was handed to the socket: on 'finish', or on 'close' after end() was
 * called (a client that closes the moment it has every byte can beat the last write's callback, and then
 * 'finish' never comes). Never for a reset or a client gone before the end.
 */
const whenSent = (res: ServerResponse, sent: () => void): void => {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    sent();
  };
  res.once('finish', once);
  res.once('close', () => {
    if (res.writableEnded) once();
  });
};

/** Tallies what reached the client whole: the submit's answer, a COMPLETED result. */
const trackDelivery = (
  core: EmulatorCore,
  res: ServerResponse,
  reply: Reply,
  fault: Fault | undefined,
  context: FaultContext,
  attempt: SubmitAttempt | undefined,
): void => {
  const intact = INTACT_UNDER.has(fault?.kind);
  const requestId = attempt?.requestId ?? context.requestId;
  if (attempt !== undefined) {
    whenSent(res, () => {
      attempt.answered = true;
      if (intact && attempt.requestId !== null) core.ledger.tally(attempt.requestId).answered = true;
    });
    return;
  }
  if (requestId === undefined || reply.status !== 200) return;
  if (context.endpoint === 'result' && reply.kind === 'json' && reply.body.status === 'COMPLETED') {
    whenSent(res, () => {
      if (intact) core.ledger.tally(requestId).resultsServed += 1;
    });
  }
};

/** The transport's events for one download: a whole, intact file counts for its request id. */
const downloadEvents = (
  core: EmulatorCore,
  events: TransportEvents,
  reply: Reply,
  context: FaultContext,
  method: string,
): TransportEvents => {
  const requestId = context.requestId;
  if (context.endpoint !== 'download' || reply.kind !== 'file' || method !== 'GET' || requestId === undefined)
    return events;
  const file = reply.file;
  core.ledger.downloadStarted(requestId, file.path);
  return { ...events, onFileWritten: () => void core.ledger.downloadFinished(requestId, file) };
};

/** Faults answered by the "gateway" before the request reaches Segmind's backend: nothing is created. */
const gatewayFault = (
  core: EmulatorCore,
  fault: Fault,
  apiKey: string | undefined,
): Reply | 'reset' | undefined => {
  switch (fault.kind) {
    case 'http-error':
      return errorReply(fault.status, fault.body);
    case 'rate-limit':
      return rateLimited(core, apiKey);
    case 'reset':
    case 'reset-before-accept':
      return 'reset';
    case 'missing-request-id':
      return json(200, { status: 'QUEUED' });
    default:
      return undefined;
  }
};

const routeSegmind = async (core: EmulatorCore, route: Route, call: SegmindCall): Promise<Reply> => {
  if (route.kind === 'unknown-model') return jsonError(404, 'Model not found');
  if (route.kind === 'wrong-method') return gatewayPage(405);
  if (route.kind === 'not-found') return jsonError(404, 'Not Found');
  switch (route.endpoint) {
    case 'submit':
      return submit(core, call);
    case 'status':
      return status(core, call, route.id ?? '');
    case 'result':
      return result(core, call, route.id ?? '');
    case 'credits':
      return credits(core, call);
    case 'download':
      return download(core, route.id ?? '');
  }
};

export const createEmulatorServer = (core: EmulatorCore): Server => {
  const events: TransportEvents = {
    onStatus: (code) => core.counterBook.status(code),
    onReset: () => core.counterBook.connectionReset(),
    sleep: (ms) => core.sleep(ms),
  };
  const quiet: TransportEvents = { ...events, onStatus: () => undefined, onReset: () => undefined };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const readBody = bodyReader(req);

    if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
      core.counterBook.request('control', undefined);
      const reply = await controlRoute(core, method, path.slice(CONTROL_PREFIX.length), readBody);
      await deliver(req, res, reply, undefined, quiet);
      return;
    }

    const apiKey = header(req, 'x-api-key');
    const route = resolveRoute(method, path);
    const endpoint = route.kind === 'endpoint' ? route.endpoint : 'other';
    core.counterBook.request(endpoint, apiKey);
    if (route.kind !== 'endpoint') {
      const reply = await routeSegmind(core, route, {
        apiKey,
        contentType: undefined,
        readBody,
        fault: undefined,
      });
      req.resume();
      await deliver(req, res, reply, undefined, events);
      return;
    }
    const context = faultContext(core, route.endpoint, route.id);
    const drawn = core.faults.take(context) ?? core.randomFaultBook.draw(context);
    // Every POST is recorded with its prompt, whatever answers it: a soak counts POSTs per job from these.
    const attempt = route.endpoint === 'submit' ? core.ledger.submitAttempt(undefined) : undefined;
    if (attempt !== undefined) attempt.prompt = promptOf(await readBody());

    if (drawn !== undefined) {
      const early = gatewayFault(core, drawn, apiKey);
      if (early !== undefined) noteFault(core, route.endpoint, drawn, context.requestId, attempt);
      if (early === 'reset') {
        events.onReset();
        resetConnection(req.socket);
        return;
      }
      if (early !== undefined) {
        req.resume();
        if (attempt !== undefined) attempt.httpStatus = early.status;
        whenSent(res, () => {
          if (attempt !== undefined) attempt.answered = true;
        });
        await deliver(req, res, early, undefined, events);
        return;
      }
    }
    const call: SegmindCall = { apiKey, contentType: header(req, 'content-type'), readBody, fault: drawn };
    let reply = await routeSegmind(core, route, call);
    req.resume();
    const createdId = createdRequestId(reply);
    // "After accept" needs an accepted job: on a submit refused (429, 400, 406) it does nothing, so that
    // every ambiguous answer the client meets really hides a created job.
    const fault =
      drawn !== undefined && AFTER_ACCEPT.has(drawn.kind) && createdId === undefined ? undefined : drawn;
    if (fault !== undefined) noteFault(core, route.endpoint, fault, createdId ?? context.requestId, attempt);
    if (attempt !== undefined) {
      attempt.requestId = createdId ?? null;
      if (createdId !== undefined) core.ledger.tally(createdId);
    }
    // The job exists now; a proxy in front answers an error all the same.
    if (fault?.kind === 'error-after-accept') reply = errorReply(fault.status, fault.body);
    if (attempt !== undefined) attempt.httpStatus = reply.status;
    trackDelivery(core, res, reply, fault, context, attempt);
    await deliver(req, res, reply, fault, downloadEvents(core, events, reply, context, method));
  };

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `Internal Server Error: ${message}` }));
    });
  });
};
