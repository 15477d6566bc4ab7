// The REST API on the local stack: an HTTP server on 127.0.0.1 that plays API Gateway's part — it picks
// the route from the same table as the CDK construct, builds the REST proxy event, calls the SAME handler
// the Lambda runs and writes back its statusCode, headers and body. No credentials: it is loopback only.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { IDEMPOTENCY_KEY_HEADER } from '#domain/api-schemas';
import type { VideoWorkflow } from '#domain/start-job';
import { API_ROUTES, matchRoute } from '#functions/api/routes';
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

/**
 * The API's handlers, wired as on AWS except for the workflow port, which the local stack provides. Call it
 * once the local stack has set the handlers' environment and pointed the AWS clients at its servers: the
 * handler modules read both when they load.
 */
export const localApiHandlers = async (ports: { workflow: VideoWorkflow }): Promise<ApiLambdas> => {
  const [create, list, get, cancel, http, jobStore] = await Promise.all([
    import('#functions/api/create-video'),
    import('#functions/api/list-videos'),
    import('#functions/api/get-video'),
    import('#functions/api/cancel-video'),
    import('#functions/api/http'),
    import('#adapters/job-store'),
  ]);
  const jobs = jobStore.createJobStore();
  const now = () => new Date();
  return {
    // The two that start or stop executions get the local workflow through their route factories; the
    // others are the very `handler` the Lambda entry exports.
    createVideo: http.apiHandler(create.createVideoRoute({ jobs, workflow: ports.workflow, now })),
    cancelVideo: http.apiHandler(cancel.cancelVideoRoute({ jobs, workflow: ports.workflow, now })),
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
}

export interface LocalApi {
  /** Base URL, stage included, without a trailing slash: `http://127.0.0.1:3000/v1`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** What API Gateway itself answers (not the handler): the construct's gateway responses use this shape. */
const gatewayError = (
  res: ServerResponse,
  requestId: string,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void => {
  const body = JSON.stringify({ error: { code, message, requestId } });
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': code,
    ...headers,
  });
  res.end(body);
};

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
const headersOf = (req: IncomingMessage) => {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
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

export const startLocalApi = async (options: LocalApiOptions): Promise<LocalApi> => {
  const stage = (options.stage ?? DEFAULT_STAGE).replace(/^\/+|\/+$/g, '');
  const prefix = stage === '' ? '' : `/${stage}`;
  const timeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const origins = options.corsAllowOrigins ?? [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let operation: ApiOperation | undefined;
    res.on('finish', () =>
      options.onRequest?.({
        requestId,
        method,
        path: url.pathname,
        status: res.statusCode,
        durationMs: Date.now() - started,
        ...(operation === undefined ? {} : { operation }),
      }),
    );

    const inStage =
      prefix === '' || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)
        ? url.pathname.slice(prefix.length) || '/'
        : undefined;
    const match = inStage === undefined ? ({ kind: 'not-found' } as const) : matchRoute(method, inStage);
    if (match.kind === 'not-found') {
      const routes = API_ROUTES.map((r) => `${r.method} ${prefix}${r.path}`).join(', ');
      gatewayError(
        res,
        requestId,
        404,
        'RESOURCE_NOT_FOUND',
        `No route for ${url.pathname}; routes: ${routes}`,
      );
      return;
    }
    if (match.kind === 'method-not-allowed') {
      if (method === 'OPTIONS' && origins.length > 0) {
        preflight(req, res, requestId, origins, match.allow);
        return;
      }
      gatewayError(res, requestId, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`, {
        Allow: match.allow.join(', '),
      });
      return;
    }
    const route = match.route as (typeof API_ROUTES)[number];
    operation = route.operationId;

    let body: Buffer;
    try {
      body = await readBody(req, MAX_PAYLOAD_BYTES);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        gatewayError(res, requestId, 413, 'REQUEST_TOO_LARGE', 'Request Too Long');
        return;
      }
      throw error;
    }

    const event: APIGatewayProxyEvent = {
      resource: route.path,
      path: inStage ?? url.pathname,
      httpMethod: method,
      ...headersOf(req),
      ...queryOf(url),
      pathParameters: match.pathParameters,
      stageVariables: null,
      body: body.length === 0 ? null : body.toString('utf8'),
      isBase64Encoded: false,
      requestContext: {
        accountId: LOCAL_ACCOUNT,
        apiId: 'local',
        authorizer: null,
        protocol: `HTTP/${req.httpVersion}`,
        httpMethod: method,
        path: url.pathname,
        stage: stage === '' ? '$default' : stage,
        requestId,
        requestTimeEpoch: started,
        resourceId: 'local',
        resourcePath: route.path,
        domainName: req.headers.host ?? '127.0.0.1',
        identity: {
          // No authentication locally: every caller is anonymous (Idempotency-Keys share one scope).
          accessKey: null,
          accountId: null,
          apiKey: null,
          apiKeyId: null,
          caller: null,
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          user: null,
          userAgent: req.headers['user-agent'] ?? null,
          userArn: null,
        },
      },
    };

    let timer: NodeJS.Timeout | undefined;
    let result: unknown;
    try {
      result = await Promise.race([
        options.handlers[route.operationId](event, lambdaContext(route.operationId, timeoutMs)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new IntegrationTimeoutError()), timeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof IntegrationTimeoutError) {
        gatewayError(res, requestId, 504, 'INTEGRATION_TIMEOUT', 'Endpoint request timed out');
        return;
      }
      // A handler that throws is a failed invoke: API Gateway answers 502 and shows nothing of the error.
      options.onIntegrationError?.(error, { requestId, operation: route.operationId });
      gatewayError(res, requestId, 502, 'INTEGRATION_FAILURE', 'Internal server error');
      return;
    } finally {
      clearTimeout(timer);
    }
    if (!isProxyResult(result)) {
      options.onIntegrationError?.(new Error('Malformed Lambda proxy response'), {
        requestId,
        operation: route.operationId,
      });
      gatewayError(res, requestId, 502, 'INTEGRATION_FAILURE', 'Internal server error');
      return;
    }
    writeResult(res, result, requestId);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const requestId = randomUUID();
      if (!res.headersSent) gatewayError(res, requestId, 500, 'INTERNAL', 'Internal server error');
      else res.destroy();
      options.onIntegrationError?.(error, { requestId });
    });
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

const writeResult = (res: ServerResponse, result: APIGatewayProxyResult, requestId: string): void => {
  const body = result.body ?? '';
  const bytes = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  res.writeHead(result.statusCode, {
    ...headers,
    'Content-Length': bytes.length,
    'x-amzn-RequestId': requestId,
  });
  res.end(bytes);
};

/** The preflight answer the construct's CORS options configure on AWS. */
const preflight = (
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  origins: readonly string[],
  allow: readonly string[],
): void => {
  const origin = req.headers.origin;
  const allowed = origins.includes('*') ? '*' : origin && origins.includes(origin) ? origin : undefined;
  res.writeHead(204, {
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
  });
  res.end();
};
