// HTTP routing: Segmind's paths, the control API, and Segmind's gateway behaviour for everything else
// (404 JSON for unknown models and paths, 405 with an HTML page for a wrong method on a known path).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CONTROL_PREFIX, type Endpoint, type Fault } from '#emulator/control';
import { controlRoute } from '#emulator/control-routes';
import type { EmulatorCore } from '#emulator/emulator';
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
const faultContext = (core: EmulatorCore, endpoint: Endpoint, id: string | undefined) => {
  if (id === undefined) return { endpoint };
  const job = endpoint === 'download' ? core.store.byVideoToken(id) : core.store.get(id);
  if (job === undefined) return { endpoint, requestId: id };
  const completed = endpoint === 'result' && jobState(job, core.clock.now()).status === 'COMPLETED';
  return { endpoint, requestId: job.requestId, completed };
};

/** Faults answered by the "gateway" before the request reaches Segmind's backend: nothing is created. */
const gatewayFault = (
  core: EmulatorCore,
  fault: Fault,
  apiKey: string | undefined,
): Reply | 'reset' | undefined => {
  switch (fault.kind) {
    case 'http-error':
      if (fault.body === 'html') return gatewayPage(fault.status);
      if (fault.body === 'json') return jsonError(fault.status, reasonPhrase(fault.status));
      return { kind: 'empty', status: fault.status };
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
    const fault =
      route.kind === 'endpoint' ? core.faults.take(faultContext(core, route.endpoint, route.id)) : undefined;

    if (fault !== undefined) {
      const early = gatewayFault(core, fault, apiKey);
      if (early === 'reset') {
        events.onReset();
        resetConnection(req.socket);
        return;
      }
      if (early !== undefined) {
        req.resume();
        await deliver(req, res, early, undefined, events);
        return;
      }
    }
    const call: SegmindCall = { apiKey, contentType: header(req, 'content-type'), readBody, fault };
    const reply = await routeSegmind(core, route, call);
    req.resume();
    await deliver(req, res, reply, fault, events);
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
