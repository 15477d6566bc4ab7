// The REST API on the local stack: an HTTP server on 127.0.0.1 that plays API Gateway's part — it picks
// the route from the same table as the CDK construct, builds the REST proxy event, calls the SAME handler
// the Lambda runs and writes back its statusCode, headers and body. Without API keys it is loopback only
// and every caller is the one local user; with keys (x-api-key), each key is a caller of its own, as on AWS.
import { isUtf8 } from 'node:buffer';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { HostResolver } from '#adapters/url-guard';
import { IDEMPOTENCY_KEY_HEADER } from '#domain/api-schemas';
import type { VideoWorkflow } from '#domain/start-job';
import { API_ROUTES, matchRoute } from '#functions/api/routes';
import type { LocalEventBus } from '#local/event-bus';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '#local/template';

export type ApiOperation = (typeof API_ROUTES)[number]['operationId'];
/** A Lambda behind a REST proxy integration. */
export type ApiLambda = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type ApiLambdas = Readonly<Record<ApiOperation, ApiLambda>>;

/** The VideoApi construct's default stage: local URLs read like the deployed ones (`…/v1/videos`). */
export const DEFAULT_STAGE = 'v1';
/** API Gateway's limits for REST APIs. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
export const INTEGRATION_TIMEOUT_MS = 29_000;
/** Request line plus headers, as Node's default; past it the answer is a JSON 414 or 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** A request line longer than this (most of it the path) is answered 414 rather than 431. */
export const MAX_REQUEST_LINE_BYTES = 8 * 1024;
/** The header API Gateway reads an API key from. */
export const API_KEY_HEADER = 'x-api-key';

/**
 * The API's handlers, wired as on AWS except for the workflow port, which the local stack provides. Call it
 * once the local stack has set the handlers' environment and pointed the AWS clients at its servers: the
 * handler modules read both when they load.
 */
export const localApiHandlers = async (ports: {
  workflow: VideoWorkflow;
  /** Where a cancel announces the job's end: the local stand-in for EventBridge. */
  events: LocalEventBus;
  /** Resolves image URL hosts (tests map names to chosen addresses). @default the system resolver */
  resolveHost?: HostResolver;
}): Promise<ApiLambdas> => {
  const [create, list, get, cancel, http, jobStore, jobEvents, config] = await Promise.all([
    import('#functions/api/create-video'),
    import('#functions/api/list-videos'),
    import('#functions/api/get-video'),
    import('#functions/api/cancel-video'),
    import('#functions/api/http'),
    import('#adapters/job-store'),
    import('#adapters/job-events'),
    import('#commons/config'),
  ]);
  const jobs = jobStore.createJobStore();
  const now = () => new Date();
  // The same entry the Lambda sends with PutEvents, delivered to the local bus instead.
  const events = jobEvents.eventBridgeJobEvents(
    config.jobEventsConfig().eventBusName,
    async ({ Time: _, ...entry }) => ports.events.putEvents([entry]),
  );
  return {
    // The two that start or stop executions get the local workflow through their route factories; the
    // others are the very `handler` the Lambda entry exports.
    createVideo: http.apiHandler(
      create.createVideoRoute({ jobs, workflow: ports.workflow, now }, ports.resolveHost),
    ),
    cancelVideo: http.apiHandler(cancel.cancelVideoRoute({ jobs, workflow: ports.workflow, events, now })),
    listVideos: list.handler,
    getVideo: get.handler,
  };
};

export interface AccessLogEntry {
  requestId: string;
  method: string;
  /** The path as requested, stage included, without the query. */
  path: string;
  status: number;
  durationMs: number;
  /** The route's operationId, when one matched. */
  operation?: ApiOperation;
}

export interface LocalApiOptions {
  handlers: ApiLambdas;
  /** @default 0 (a free port) */
  port?: number;
  /** The path prefix, as API Gateway's stage; '' for none. @default 'v1' */
  stage?: string;
  /** Origins a browser may call from, answered on preflight (OPTIONS) as the construct's CORS does. */
  corsAllowOrigins?: readonly string[];
  /** @default 29 s, as API Gateway */
  integrationTimeoutMs?: number;
  /** One entry per request, once answered (the stage's access log). */
  onRequest?: (entry: AccessLogEntry) => void;
  /** A handler threw or answered something that is not a proxy result (the caller got a 502). */
  onIntegrationError?: (error: unknown, entry: { requestId: string; operation?: ApiOperation }) => void;
  /**
   * API keys callers must send as `x-api-key`, as the stack's `api-key` mode asks on AWS: each key is its own
   * caller and owns the jobs it creates. @default none — no key is asked for and every caller is the one
   * local user, who sees every job
   */
  apiKeys?: readonly string[];
}

/** A request as the HTTP server read it: the transport's part, without the socket. */
export interface RawApiRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  /** Name, value, name, value… as received (Node's `rawHeaders`). */
  rawHeaders: readonly string[];
  body: Buffer;
  httpVersion?: string;
  remoteAddress?: string;
}

/** What the API answers: the status, headers and body bytes the server writes. */
export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  requestId: string;
  /** The route's operationId, when one matched. */
  operation?: ApiOperation;
}

/** The id the local API gives a key: not the key itself, which never goes into records or logs. */
export const localApiKeyId = (key: string): string =>
  `local-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

export interface LocalApi {
  /** Base URL, stage included, without a trailing slash: `http://127.0.0.1:3000/v1`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** What API Gateway itself answers (not the handler): the construct's gateway responses use this shape. */
const gatewayError = (
  requestId: string,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): ApiAnswer => ({
  status,
  requestId,
  headers: {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': code,
    ...headers,
  },
  body: Buffer.from(JSON.stringify({ error: { code, message, requestId } }), 'utf8'),
});

class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/** The whole body; past the limit the rest is read and dropped, so the client still gets the answer. */
const readBody = async (req: IncomingMessage, limit: number): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= limit) chunks.push(buffer);
  }
  if (size > limit) throw new PayloadTooLargeError(`the request body is larger than ${limit} bytes`);
  return Buffer.concat(chunks);
};

/** Headers as API Gateway passes them: original case, the last value in `headers`, all in `multiValueHeaders`. */
const headersOf = (rawHeaders: readonly string[]) => {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    // A second spelling of the same header joins the first one's entry.
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    headers[key] = value;
    multiValueHeaders[key] = [...(multiValueHeaders[key] ?? []), value];
  }
  return { headers, multiValueHeaders };
};

const queryOf = (url: URL) => {
  if ([...url.searchParams.keys()].length === 0) {
    return { queryStringParameters: null, multiValueQueryStringParameters: null };
  }
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
};

const lambdaContext = (operation: ApiOperation, timeoutMs: number): Context => {
  const requestId = randomUUID();
  const deadline = Date.now() + timeoutMs;
  const functionName = `local-api-${operation}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

const isProxyResult = (value: unknown): value is APIGatewayProxyResult => {
  if (typeof value !== 'object' || value === null) return false;
  const { statusCode, body, headers } = value as Record<string, unknown>;
  return (
    Number.isInteger(statusCode) &&
    (body === undefined || body === null || typeof body === 'string') &&
    (headers === undefined || headers === null || typeof headers === 'object')
  );
};

class IntegrationTimeoutError extends Error {
  override readonly name = 'IntegrationTimeoutError';
}

/** Whether `presented` is one of the keys, compared in constant time. */
const knownKey = (keys: readonly string[], presented: string | undefined): string | undefined => {
  if (presented === undefined) return undefined;
  const given = createHash('sha256').update(presented).digest();
  return keys.find((key) => timingSafeEqual(createHash('sha256').update(key).digest(), given));
};

const headerValue = (rawHeaders: readonly string[], name: string): string | undefined => {
  for (let i = rawHeaders.length - 2; i >= 0; i -= 2) {
    if (rawHeaders[i]?.toLowerCase() === name) return rawHeaders[i + 1];
  }
  return undefined;
};

/**
 * API Gateway's part for one request, without the socket: route, API key, proxy event, handler, answer.
 * The HTTP server below calls it for every request; tests can call it directly, in process, and exercise
 * exactly what the server would.
 */
export const localApiRequests = (
  options: Omit<LocalApiOptions, 'port' | 'onRequest'>,
): ((request: RawApiRequest) => Promise<ApiAnswer>) => {
  const stage = (options.stage ?? DEFAULT_STAGE).replace(/^\/+|\/+$/g, '');
  const prefix = stage === '' ? '' : `/${stage}`;
  const timeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const origins = options.corsAllowOrigins ?? [];
  const apiKeys = options.apiKeys ?? [];

  return async (req) => {
    const started = Date.now();
    const requestId = randomUUID();
    const method = req.method.toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url, 'http://127.0.0.1');
    } catch {
      return gatewayError(requestId, 400, 'BAD_REQUEST', 'The request URL cannot be read');
    }

    const inStage =
      prefix === '' || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)
        ? url.pathname.slice(prefix.length) || '/'
        : undefined;
    const match = inStage === undefined ? ({ kind: 'not-found' } as const) : matchRoute(method, inStage);
    if (match.kind === 'not-found') {
      const routes = API_ROUTES.map((r) => `${r.method} ${prefix}${r.path}`).join(', ');
      return gatewayError(
        requestId,
        404,
        'RESOURCE_NOT_FOUND',
        `No route for ${url.pathname.slice(0, 200)}; routes: ${routes}`,
      );
    }
    if (match.kind === 'method-not-allowed') {
      if (method === 'OPTIONS' && origins.length > 0) {
        return preflight(headerValue(req.rawHeaders, 'origin'), requestId, origins, match.allow);
      }
      return gatewayError(
        requestId,
        405,
        'METHOD_NOT_ALLOWED',
        `${method.slice(0, 20)} is not allowed on ${url.pathname.slice(0, 200)}`,
        { Allow: match.allow.join(', ') },
      );
    }
    const route = match.route as (typeof API_ROUTES)[number];
    const operation = route.operationId;

    // As API Gateway with `apiKeyRequired`: no known key, no handler — and the same 403 whether the key is
    // missing or wrong, so the answer tells nothing about which keys exist.
    const presented = headerValue(req.rawHeaders, API_KEY_HEADER);
    const apiKey = apiKeys.length === 0 ? undefined : knownKey(apiKeys, presented);
    if (apiKeys.length > 0 && apiKey === undefined) {
      return { ...gatewayError(requestId, 403, 'FORBIDDEN', 'Forbidden'), operation };
    }

    if (req.body.length > MAX_PAYLOAD_BYTES) {
      return { ...gatewayError(requestId, 413, 'REQUEST_TOO_LARGE', 'Request Too Long'), operation };
    }

    const event: APIGatewayProxyEvent = {
      resource: route.path,
      path: inStage ?? url.pathname,
      httpMethod: method,
      ...headersOf(req.rawHeaders),
      ...queryOf(url),
      pathParameters: match.pathParameters,
      stageVariables: null,
      // Bytes that are not UTF-8 go to the handler base64-encoded, as API Gateway passes binary bodies,
      // so the handler sees them as they came instead of with replacement characters.
      ...(req.body.length === 0
        ? { body: null, isBase64Encoded: false }
        : isUtf8(req.body)
          ? { body: req.body.toString('utf8'), isBase64Encoded: false }
          : { body: req.body.toString('base64'), isBase64Encoded: true }),
      requestContext: {
        accountId: LOCAL_ACCOUNT,
        apiId: 'local',
        authorizer: null,
        protocol: `HTTP/${req.httpVersion ?? '1.1'}`,
        httpMethod: method,
        path: url.pathname,
        stage: stage === '' ? '$default' : stage,
        requestId,
        requestTimeEpoch: started,
        resourceId: 'local',
        resourcePath: route.path,
        domainName: headerValue(req.rawHeaders, 'host') ?? '127.0.0.1',
        identity: {
          // With keys, the caller is its key's id (as API Gateway's $context.identity.apiKeyId); without,
          // there is no authentication and every caller is the one local user.
          accessKey: null,
          accountId: null,
          apiKey: apiKey ?? null,
          apiKeyId: apiKey === undefined ? null : localApiKeyId(apiKey),
          caller: null,
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          sourceIp: req.remoteAddress ?? '127.0.0.1',
          user: null,
          userAgent: headerValue(req.rawHeaders, 'user-agent') ?? null,
          userArn: null,
        },
      },
    };

    let timer: NodeJS.Timeout | undefined;
    let result: unknown;
    try {
      result = await Promise.race([
        options.handlers[operation](event, lambdaContext(operation, timeoutMs)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new IntegrationTimeoutError()), timeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof IntegrationTimeoutError) {
        return {
          ...gatewayError(requestId, 504, 'INTEGRATION_TIMEOUT', 'Endpoint request timed out'),
          operation,
        };
      }
      // A handler that throws is a failed invoke: API Gateway answers 502 and shows nothing of the error.
      options.onIntegrationError?.(error, { requestId, operation });
      return { ...gatewayError(requestId, 502, 'INTEGRATION_FAILURE', 'Internal server error'), operation };
    } finally {
      clearTimeout(timer);
    }
    if (!isProxyResult(result)) {
      options.onIntegrationError?.(new Error('Malformed Lambda proxy response'), { requestId, operation });
      return { ...gatewayError(requestId, 502, 'INTEGRATION_FAILURE', 'Internal server error'), operation };
    }
    return { ...answerOf(result, requestId), operation };
  };
};

/**
 * The JSON answer to a request Node's HTTP parser refused before any handler ran: a request line or
 * headers past MAX_HEADER_BYTES (414 when the request line alone is too long, else 431), or a request
 * that is not HTTP at all (400). Node would otherwise answer with an empty body.
 */
const clientErrorAnswer = (error: NodeJS.ErrnoException & { rawPacket?: Buffer }): string => {
  const requestId = randomUUID();
  const overflow = error.code === 'HPE_HEADER_OVERFLOW';
  const firstLine = error.rawPacket?.subarray(0, MAX_HEADER_BYTES + 1).indexOf('\r\n');
  const lineTooLong =
    overflow &&
    (firstLine === undefined || firstLine < 0 ? (error.rawPacket?.length ?? 0) : firstLine) >
      MAX_REQUEST_LINE_BYTES;
  const [status, reason, code, message] = !overflow
    ? [400, 'Bad Request', 'BAD_REQUEST', 'The request is not valid HTTP']
    : lineTooLong
      ? [
          414,
          'URI Too Long',
          'REQUEST_URI_TOO_LONG',
          `The request line is longer than ${MAX_REQUEST_LINE_BYTES} bytes`,
        ]
      : [
          431,
          'Request Header Fields Too Large',
          'REQUEST_HEADER_FIELDS_TOO_LARGE',
          `The request line and headers are larger than ${MAX_HEADER_BYTES} bytes`,
        ];
  const body = JSON.stringify({ error: { code, message, requestId } });
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nx-amzn-RequestId: ${requestId}\r\n` +
    `x-amzn-ErrorType: ${code}\r\nConnection: close\r\n\r\n${body}`
  );
};

export const startLocalApi = async (options: LocalApiOptions): Promise<LocalApi> => {
  const stage = (options.stage ?? DEFAULT_STAGE).replace(/^\/+|\/+$/g, '');
  const prefix = stage === '' ? '' : `/${stage}`;
  const answer = localApiRequests(options);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    let body: Buffer;
    try {
      body = await readBody(req, MAX_PAYLOAD_BYTES);
    } catch (error) {
      if (!(error instanceof PayloadTooLargeError)) throw error;
      // Past the limit the bytes were dropped: any buffer longer than it stands for "too large".
      body = Buffer.alloc(MAX_PAYLOAD_BYTES + 1);
    }
    const answered = await answer({
      method,
      url: req.url ?? '/',
      rawHeaders: req.rawHeaders,
      body,
      httpVersion: req.httpVersion,
      ...(req.socket.remoteAddress === undefined ? {} : { remoteAddress: req.socket.remoteAddress }),
    });
    res.on('finish', () =>
      options.onRequest?.({
        requestId: answered.requestId,
        method,
        path: pathOf(req.url),
        status: res.statusCode,
        durationMs: Date.now() - started,
        ...(answered.operation === undefined ? {} : { operation: answered.operation }),
      }),
    );
    res.writeHead(answered.status, { ...answered.headers, 'Content-Length': answered.body.length });
    res.end(answered.body);
  };

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const failed = gatewayError(randomUUID(), 500, 'INTERNAL', 'Internal server error');
      if (!res.headersSent) {
        res.writeHead(failed.status, { ...failed.headers, 'Content-Length': failed.body.length });
        res.end(failed.body);
      } else res.destroy();
      options.onIntegrationError?.(error, { requestId: failed.requestId });
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorAnswer(error));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    port,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
};

const pathOf = (url: string | undefined): string => {
  try {
    return new URL(url ?? '/', 'http://127.0.0.1').pathname;
  } catch {
    return url ?? '/';
  }
};

const answerOf = (result: APIGatewayProxyResult, requestId: string): ApiAnswer => {
  const body = result.body ?? '';
  const bytes = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  return {
    status: result.statusCode,
    headers: { ...headers, 'x-amzn-RequestId': requestId },
    body: bytes,
    requestId,
  };
};

/** The preflight answer the construct's CORS options configure on AWS. */
const preflight = (
  origin: string | undefined,
  requestId: string,
  origins: readonly string[],
  allow: readonly string[],
): ApiAnswer => {
  const allowed = origins.includes('*') ? '*' : origin && origins.includes(origin) ? origin : undefined;
  return {
    status: 204,
    requestId,
    body: Buffer.alloc(0),
    headers: {
      'x-amzn-RequestId': requestId,
      ...(allowed === undefined
        ? {}
        : {
            'Access-Control-Allow-Origin': allowed,
            'Access-Control-Allow-Methods': [...allow, 'OPTIONS'].join(','),
            'Access-Control-Allow-Headers': `Content-Type,Authorization,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256,X-Api-Key,${IDEMPOTENCY_KEY_HEADER}`,
            'Access-Control-Expose-Headers': 'Location',
            'Access-Control-Max-Age': '3600',
            ...(allowed === '*' ? {} : { Vary: 'Origin' }),
          }),
    },
  };
};
