// API Gateway proxy events and Lambda contexts for driving the API handlers the way API Gateway (and the
// local HTTP server) does, plus the environment the handler modules read at start-up.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { vi } from 'vitest';

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:VideoJob';
export const JOBS_TABLE = 'jobs-table';
export const ALLOWED_ORIGIN = 'https://app.example.com';
/** The caller every event is from unless it says otherwise, and the owner it gives its jobs. */
export const CALLER_ARN = 'arn:aws:iam::123456789012:user/alice';
export const CALLER_OWNER = `iam:${CALLER_ARN}`;

/** What the API construct sets on the functions; call before importing a handler module. */
export const stubApiEnvironment = (): void => {
  vi.stubEnv('JOBS_TABLE_NAME', JOBS_TABLE);
  vi.stubEnv('STATE_MACHINE_ARN', STATE_MACHINE_ARN);
  vi.stubEnv('EVENT_BUS_NAME', 'jobs-bus');
  vi.stubEnv('VIDEO_LINK_TTL_SECONDS', '600');
  vi.stubEnv('CORS_ALLOW_ORIGINS', ALLOWED_ORIGIN);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
};

export interface EventOptions {
  method: string;
  /** Resource path as API Gateway names it, e.g. `/videos/{jobId}`. */
  resource: string;
  path: string;
  body?: unknown;
  /** A raw body string, sent as is (for malformed JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  userArn?: string;
  apiKeyId?: string;
  requestId?: string;
}

let counter = 0;

export const apiEvent = (options: EventOptions): APIGatewayProxyEvent => {
  counter += 1;
  const body = options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body));
  return {
    httpMethod: options.method,
    resource: options.resource,
    path: options.path,
    body,
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json', ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: options.method,
      path: `/v1${options.path}`,
      stage: 'v1',
      requestId: options.requestId ?? `req-${counter}`,
      requestTimeEpoch: 1_893_456_000_000,
      resourceId: 'res',
      resourcePath: options.resource,
      identity: {
        accessKey: null,
        accountId: options.userArn ? '123456789012' : null,
        apiKey: null,
        apiKeyId: options.apiKeyId ?? null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: null,
        userAgent: 'vitest',
        userArn: options.userArn ?? CALLER_ARN,
      },
    },
  };
};

export const lambdaContext = (): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'api-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:api-test',
  memoryLimitInMB: '256',
  awsRequestId: 'lambda-request-id',
  logGroupName: '/aws/lambda/api-test',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ParsedResult {
  statusCode: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  raw: string;
}

/** Calls the handler as API Gateway would and parses the JSON it answered. */
export const invoke = async (handler: ApiHandler, event: APIGatewayProxyEvent): Promise<ParsedResult> => {
  const result = await handler(event, lambdaContext());
  return {
    statusCode: result.statusCode,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    body: JSON.parse(result.body) as Record<string, unknown>,
    raw: result.body,
  };
};

/** The `error.fields[].field` names of an error answer. */
export const fieldsOf = (result: ParsedResult): string[] => {
  const error = result.body.error as { fields?: { field: string }[] } | undefined;
  return (error?.fields ?? []).map((f) => f.field);
};
