// What every API handler shares: reading an API Gateway proxy event, answering in JSON, and the one place
// errors become HTTP responses. Only errors we raised on purpose reach the caller with their message;
// anything else is a generic 500 carrying the request id, with the detail in the log only.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import { ENV } from '#commons/env';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { type ErrorBody, type FieldError, type FieldErrorContext, fieldErrorsOf } from '#domain/api-schemas';
import { JobAlreadyEndedError, JobBeingStoredError, JobNotFoundError } from '#domain/cancel-job';
import type { Caller } from '#domain/job-owner';
import { InvalidCursorError } from '#domain/list-jobs';
import { IdempotencyKeyReusedError } from '#domain/start-job';

export type ApiEvent = APIGatewayProxyEvent;
export type ApiResult = APIGatewayProxyResult;
export type ApiRoute = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/** The input breaks a rule; every problem names its field. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  readonly fields: FieldError[];
  constructor(fields: FieldError[]) {
    super(`invalid request: ${fields.map((f) => f.message).join('; ')}`);
    this.fields = fields;
  }
}

// ---- reading the event ----

/** A header, whatever case the client or API Gateway gave its name. */
export const headerOf = (event: ApiEvent, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === wanted);
  return entry?.[1] ?? undefined;
};

/** The id API Gateway gave the request (also in its access log), else the Lambda's own. */
export const requestIdOf = (event: ApiEvent | undefined, context: Context | undefined): string =>
  event?.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';

/** An assumed role's sessions are one caller: the session name (often random per session) is dropped. */
const principalOf = (userArn: string): string =>
  /^(arn:[^:]+:sts::\d+:assumed-role\/[^/]+)\/.+$/.exec(userArn)?.[1] ?? userArn;

/** Owns the jobs created by requests without an identity where identities are required: none, by design. */
const ANONYMOUS = 'anonymous';
/** Owns what the local user creates through a local API that asks for no credentials. */
export const LOCAL_USER_OWNER = 'local';

/**
 * Who is calling, from what API Gateway authenticated: the IAM principal (IAM auth; a role, not one of its
 * sessions) or the API key's id (API-key auth) — never the key itself. A request without an identity is the
 * local user only where the API asks for no credentials (API_AUTH=none, the local API without keys).
 */
export const callerOf = (event: ApiEvent): Caller => {
  const identity = event.requestContext?.identity;
  if (identity?.userArn) return { kind: 'owner', owner: `iam:${principalOf(identity.userArn)}` };
  if (identity?.apiKeyId) return { kind: 'owner', owner: `api-key:${identity.apiKeyId}` };
  if (process.env[ENV.apiAuth] === 'none') return { kind: 'local-user' };
  return { kind: 'owner', owner: ANONYMOUS };
};

/** The owner a job created by this request gets, which also scopes its Idempotency-Keys. */
export const ownerOf = (caller: Caller): string =>
  caller.kind === 'owner' ? caller.owner : LOCAL_USER_OWNER;

/**
 * The path the client called, stage and custom-domain base path included, so links built on it resolve
 * against the request URL whichever way the API is reached.
 */
export const requestPathOf = (event: ApiEvent): string =>
  (event.requestContext?.path || event.path || '/').replace(/\/+$/, '');

/** The body is not JSON: 415, naming the Content-Type header. */
export class UnsupportedMediaTypeError extends Error {
  override readonly name = 'UnsupportedMediaTypeError';
}

/** `application/json`, with at most a UTF-8 charset: nothing else is read as a request body. */
const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Refuses a body that does not say it is JSON, before reading it. */
export const requireJsonContentType = (event: ApiEvent): void => {
  const contentType = headerOf(event, 'Content-Type');
  if (contentType !== undefined && JSON_MEDIA_TYPE.test(contentType.trim())) return;
  throw new UnsupportedMediaTypeError(
    contentType === undefined
      ? 'Content-Type is missing; send the body as application/json'
      : `Content-Type ${JSON.stringify(contentType.slice(0, 100))} is not supported; send the body as application/json (UTF-8)`,
  );
};

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * The body as JSON. It must say it is JSON (Content-Type), and bodies API Gateway base64-encoded (binary
 * media types; the local server does the same for bytes that are not UTF-8) must be valid UTF-8: a
 * replacement character silently standing in for a bad byte would change what the caller asked for.
 */
export const jsonBodyOf = (event: ApiEvent): unknown => {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new RequestValidationError([{ field: 'body', message: 'the request body must be a JSON object' }]);
  }
  requireJsonContentType(event);
  let text: string;
  try {
    text = event.isBase64Encoded ? strictUtf8.decode(Buffer.from(event.body, 'base64')) : event.body;
  } catch {
    throw new RequestValidationError([{ field: 'body', message: 'the request body is not valid UTF-8' }]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestValidationError([{ field: 'body', message: 'the request body is not valid JSON' }]);
  }
};

/** Parses with the schema or throws RequestValidationError naming every field at fault. */
export const parseInput = <S extends z.ZodType>(
  schema: S,
  input: unknown,
  context: FieldErrorContext,
): z.output<S> => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new RequestValidationError(fieldErrorsOf(result.error, input, context));
};

// ---- answering ----

const BASE_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  // Bodies carry job states and presigned URLs: neither should be served from a cache.
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
} as const;

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult => ({
  statusCode,
  headers: { ...BASE_HEADERS, ...headers },
  body: JSON.stringify(body),
});

interface Mapped {
  statusCode: number;
  code: string;
  message: string;
  fields?: FieldError[];
}

/** The one table from errors to HTTP. Anything not listed is internal. */
const mapError = (error: unknown): Mapped | undefined => {
  if (error instanceof RequestValidationError) {
    return { statusCode: 400, code: 'ValidationError', message: error.message, fields: error.fields };
  }
  if (error instanceof InvalidCursorError) {
    return {
      statusCode: 400,
      code: 'ValidationError',
      message: `invalid request: ${error.message}`,
      fields: [{ field: 'cursor', message: error.message }],
    };
  }
  if (error instanceof UnsupportedMediaTypeError) {
    return {
      statusCode: 415,
      code: 'UnsupportedMediaType',
      message: error.message,
      fields: [{ field: 'Content-Type', message: error.message }],
    };
  }
  if (error instanceof JobNotFoundError) return { statusCode: 404, code: 'NotFound', message: error.message };
  if (error instanceof JobAlreadyEndedError) {
    return { statusCode: 409, code: 'JobAlreadyEnded', message: error.message };
  }
  if (error instanceof JobBeingStoredError) {
    return { statusCode: 409, code: 'JobBeingStored', message: error.message };
  }
  if (error instanceof IdempotencyKeyReusedError) {
    // 422, as the IETF Idempotency-Key draft asks for a key reused with a different payload.
    return {
      statusCode: 422,
      code: 'IdempotencyKeyReused',
      message: error.message,
      fields: [{ field: 'Idempotency-Key', message: error.message }],
    };
  }
  return undefined;
};

export const errorResponse = (error: unknown, requestId: string): ApiResult => {
  const mapped = mapError(error);
  if (mapped === undefined) {
    logger.error('Request failed', { requestId, error: error instanceof Error ? error : String(error) });
    const body: ErrorBody = {
      error: {
        code: 'InternalError',
        message: `The request failed on our side. Quote request id ${requestId} when reporting it.`,
        requestId,
      },
    };
    return json(500, body);
  }
  logger.info('Request refused', {
    requestId,
    statusCode: mapped.statusCode,
    code: mapped.code,
    reason: mapped.message,
  });
  const body: ErrorBody = {
    error: {
      code: mapped.code,
      message: mapped.message,
      ...(mapped.fields === undefined ? {} : { fields: mapped.fields }),
      requestId,
    },
  };
  return json(mapped.statusCode, body);
};

// ---- middlewares ----

/** Logs carry the API request id, the same id an error body quotes and the access log records. */
const correlation = (): MiddlewareObj<ApiEvent, ApiResult> => ({
  before: (request) => {
    logger.setCorrelationId(requestIdOf(request.event, request.context));
  },
});

/** Sets the response for any error; runs before the Powertools error hooks, which then see a handled request. */
const httpErrors = (): MiddlewareObj<ApiEvent, ApiResult> => ({
  onError: (request) => {
    request.response = errorResponse(request.error, requestIdOf(request.event, request.context));
  },
});

/** One per answered request, by `route` (`GET /videos/{jobId}`) and `statusCode`: errors included. */
export const API_RESPONSES_METRIC = 'ApiResponses';

/**
 * Counts every answer the handler gave, after the error mapping, so a 404 or a 422 counts as what the
 * caller saw. API Gateway's own metrics count per stage; these say which route answered what. Published at
 * once, in a document of its own, so its dimensions never apply to the metrics a route records.
 */
const responseMetrics = (): MiddlewareObj<ApiEvent, ApiResult> => {
  const count = (request: { event: ApiEvent; response: ApiResult | null }): void => {
    if (!request.response) return;
    const single = metrics.singleMetric();
    single.addDimensions({
      route: `${request.event.httpMethod ?? 'UNKNOWN'} ${request.event.resource ?? 'unknown'}`,
      statusCode: String(request.response.statusCode),
    });
    single.addMetric(API_RESPONSES_METRIC, MetricUnit.Count, 1);
  };
  return { after: count, onError: count };
};

/** Browser callers: echo an allowed Origin (CORS_ALLOW_ORIGINS) on every answer, errors included. */
const cors = (allowedOrigins: readonly string[]): MiddlewareObj<ApiEvent, ApiResult> => {
  const addHeaders = (request: { event: ApiEvent; response: ApiResult | null }): void => {
    if (request.response === null || allowedOrigins.length === 0) return;
    const origin = headerOf(request.event, 'Origin');
    const allowed = allowedOrigins.includes('*')
      ? '*'
      : origin && allowedOrigins.includes(origin)
        ? origin
        : undefined;
    if (allowed === undefined) return;
    request.response.headers = {
      ...request.response.headers,
      'Access-Control-Allow-Origin': allowed,
      'Access-Control-Expose-Headers': 'Location',
      ...(allowed === '*' ? {} : { Vary: 'Origin' }),
    };
  };
  return { after: addHeaders, onError: addHeaders };
};

export const parseCorsOrigins = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');

/**
 * An API handler: the shared Powertools wrapper, then correlation, CORS and error mapping. The result is a
 * plain (event, context) → APIGatewayProxyResult function, which a local HTTP server can call as is.
 */
export const apiHandler = (route: ApiRoute) =>
  lambdaHandler<ApiEvent, ApiResult>(route)
    .use(correlation())
    .use(responseMetrics())
    .use(cors(parseCorsOrigins(process.env[ENV.corsAllowOrigins])))
    .use(httpErrors());
