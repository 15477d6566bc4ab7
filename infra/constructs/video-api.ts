// The REST API in front of the pipeline: POST/GET /videos and GET/DELETE /videos/{jobId}, one function
// per route. Authenticated (IAM by default, API keys with a usage plan as an option), throttled, the
// request body checked at the gateway against the model generated from the one request schema, access
// logs in JSON, and every gateway-made error in the same JSON shape the handlers use.
import { CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  EndpointType,
  type IApiKey,
  type JsonSchema,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type Model,
  Period,
  type RequestValidator,
  type Resource,
  ResponseType,
  RestApi,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '#commons/env';
import { gatewayRequestModel, IDEMPOTENCY_KEY_HEADER } from '#domain/api-schemas';
import { API_ROUTES, type ApiRouteSpec } from '#functions/api/routes';
import { handlerEntry } from './handlers';
import { JOB_INDEXES, VIDEOS_PREFIX } from './storage';
import { VideoFunction } from './video-function';

export type VideoApiAuth = 'iam' | 'api-key';

export interface ThrottleLimits {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface VideoApiProps {
  readonly jobsTable: ITable;
  readonly stateMachine: IStateMachine;
  readonly videosBucket: IBucket;
  /**
   * Where a cancel announces the job's end: a stopped execution runs none of its states, so the cancel
   * publishes the `Video Generation Failed` event the workflow would have. The workflow's own bus.
   */
  readonly eventBus: IEventBus;
  /** IAM (SigV4-signed requests) or API keys with a usage plan. @default 'iam' */
  readonly auth?: VideoApiAuth;
  /** For the whole stage. @default 10 requests/s, burst 20 */
  readonly throttle?: ThrottleLimits;
  /** POST /videos only: every call may start a paid Segmind job. @default 2 requests/s, burst 5 */
  readonly createThrottle?: ThrottleLimits;
  /** With `auth: 'api-key'`: requests per key and period. @default 10,000 a day */
  readonly quota?: { readonly limit: number; readonly period: Period };
  /** Origins browsers may call the API from (`['*']` for any). @default none — no CORS */
  readonly corsAllowOrigins?: readonly string[];
  /** @default 'v1' */
  readonly stageName?: string;
  /** How long a presigned download URL stays valid. @default 15 minutes */
  readonly videoLinkTtl?: Duration;
  /**
   * Also check POST bodies at the gateway against the model generated from the request schema. Off by
   * default: a request is validated once, by the handler, which is the edge — the gateway checks a body only
   * against the model of its own content type (a `text/plain` body would pass unchecked), cannot express
   * every rule (lone surrogates, UTF-8), and answers in its own words instead of naming the field. Turn it on
   * to refuse malformed bodies before they cost an invocation. @default false
   */
  readonly validateRequestBody?: boolean;
  /** @default one year */
  readonly accessLogRetention?: RetentionDays;
  /**
   * Set the account-wide role that lets API Gateway write logs; access logging fails to deploy without
   * it. Turn off when the account already has one. @default true
   */
  readonly cloudWatchRole?: boolean;
  /** A WAF web ACL (regional) to attach to the stage. @default none */
  readonly webAclArn?: string;
}

const DEFAULT_THROTTLE: ThrottleLimits = { rateLimit: 10, burstLimit: 20 };
const DEFAULT_CREATE_THROTTLE: ThrottleLimits = { rateLimit: 2, burstLimit: 5 };
const DEFAULT_QUOTA_PER_DAY = 10_000;

/** zod's JSON Schema (draft 4) in the shape CDK's Model takes: `$schema`/`$ref` spelled `schema`/`ref`. */
export const toCdkJsonSchema = (node: Record<string, unknown>): JsonSchema => {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === '$schema') out.schema = JsonSchemaVersion.DRAFT4;
      else if (key === '$ref') out.ref = child;
      else if (key === 'properties' || key === 'definitions') {
        // Property names are data, not keywords: keep them, convert their schemas.
        out[key] = Object.fromEntries(
          Object.entries(child as Record<string, unknown>).map(([name, schema]) => [name, convert(schema)]),
        );
      } else if (key === 'enum' || key === 'default' || key === 'required') out[key] = child;
      else out[key] = convert(child);
    }
    return out;
  };
  return convert(node) as JsonSchema;
};

/**
 * Acknowledges a finding whose id names another resource's logical id, when that resource belongs to this
 * app (an imported one has none, and then the finding reads differently and must be reviewed anew).
 */
const acknowledgeFor = (
  scope: IConstruct,
  resource: IConstruct,
  finding: (logicalId: string) => { id: string; reason: string },
): void => {
  const element = resource.node.defaultChild;
  if (element instanceof CfnElement) {
    Validations.of(scope).acknowledge(finding(Stack.of(resource).getLogicalId(element)));
  }
};

/** Item-level actions on the table itself (table.grant would add index/* too, which these never use). */
const grantOnTable = (fn: VideoFunction, table: ITable, actions: string[]): void => {
  fn.addToRolePolicy(new PolicyStatement({ actions, resources: [table.tableArn] }));
};

const errorTemplate = (code: string, message: string, fields?: string): string =>
  `{"error":{"code":${code},"message":${message},${fields === undefined ? '' : `"fields":${fields},`}"requestId":"$context.requestId"}}`;

export class VideoApi extends Construct {
  readonly api: RestApi;
  /** The stage's invoke URL, ending in `/`. */
  readonly url: string;
  /** The function behind each route, by operationId (createVideo, listVideos, getVideo, cancelVideo). */
  readonly functions: Readonly<Record<string, VideoFunction>>;
  /** With `auth: 'api-key'`: the key callers send as `x-api-key`, and its usage plan. */
  readonly apiKey?: IApiKey;
  readonly usagePlan?: UsagePlan;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: VideoApiProps) {
    super(scope, id);
    const auth = props.auth ?? 'iam';
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    const createThrottle = props.createThrottle ?? DEFAULT_CREATE_THROTTLE;
    const origins = props.corsAllowOrigins ?? [];
    const linkTtl = (props.videoLinkTtl ?? Duration.minutes(15)).toSeconds();
    for (const [name, limits] of [
      ['throttle', throttle],
      ['createThrottle', createThrottle],
    ] as const) {
      if (!(limits.rateLimit > 0 && Number.isInteger(limits.burstLimit) && limits.burstLimit > 0)) {
        throw new Error(
          `VideoApi ${name}: rateLimit and burstLimit must be positive, got ${JSON.stringify(limits)}`,
        );
      }
    }
    if (origins.includes('*') && origins.length > 1) {
      throw new Error(
        `VideoApi corsAllowOrigins: '*' cannot be combined with other origins: ${origins.join(', ')}`,
      );
    }
    if (linkTtl < 1 || linkTtl > 3600) {
      throw new Error(`VideoApi videoLinkTtl must be from 1 second to 1 hour, got ${linkTtl} s`);
    }

    // ---- the API and its stage ----
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const stageName = props.stageName ?? 'v1';
    this.api = new RestApi(this, 'Api', {
      description: 'ltx-video-pipeline: create, list, get and cancel video jobs',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: props.cloudWatchRole ?? true,
      apiKeySourceType: auth === 'api-key' ? ApiKeySourceType.HEADER : undefined,
      defaultMethodOptions:
        auth === 'iam'
          ? { authorizationType: AuthorizationType.IAM }
          : { authorizationType: AuthorizationType.NONE, apiKeyRequired: true },
      ...(origins.length === 0
        ? {}
        : {
            defaultCorsPreflightOptions: {
              allowOrigins: [...origins],
              allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
              allowHeaders: [
                'Content-Type',
                'Authorization',
                'X-Amz-Date',
                'X-Amz-Security-Token',
                'X-Amz-Content-Sha256',
                'X-Api-Key',
                IDEMPOTENCY_KEY_HEADER,
              ],
              exposeHeaders: ['Location'],
              maxAge: Duration.hours(1),
            },
          }),
      deployOptions: {
        stageName,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        methodOptions: {
          '/videos/POST': {
            throttlingRateLimit: createThrottle.rateLimit,
            throttlingBurstLimit: createThrottle.burstLimit,
          },
        },
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            requestTime: AccessLogField.contextRequestTime(),
            ip: AccessLogField.contextIdentitySourceIp(),
            userAgent: AccessLogField.contextIdentityUserAgent(),
            caller: AccessLogField.contextIdentityCaller(),
            userArn: AccessLogField.contextIdentityUserArn(),
            apiKeyId: AccessLogField.contextIdentityApiKeyId(),
            httpMethod: AccessLogField.contextHttpMethod(),
            resourcePath: AccessLogField.contextResourcePath(),
            path: AccessLogField.contextPath(),
            protocol: AccessLogField.contextProtocol(),
            status: AccessLogField.contextStatus(),
            responseLength: AccessLogField.contextResponseLength(),
            responseLatency: AccessLogField.contextResponseLatency(),
            integrationLatency: AccessLogField.contextIntegrationLatency(),
            integrationStatus: AccessLogField.contextIntegrationStatus(),
            errorType: AccessLogField.contextErrorResponseType(),
            error: AccessLogField.contextErrorMessage(),
            validationError: AccessLogField.contextErrorValidationErrorString(),
            xrayTraceId: AccessLogField.contextXrayTraceId(),
          }),
        ),
        // Errors only, and never request or response bodies: prompts and presigned URLs stay out of logs.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
    });
    this.url = this.api.url;

    // ---- validation: the handler is the edge; the model documents the body (and can check it, opt-in) ----
    const bodyModel: Model = this.api.addModel('VideoRequest', {
      contentType: 'application/json',
      modelName: 'VideoRequest',
      description: 'POST /videos body, generated from videoRequestSchema',
      schema: toCdkJsonSchema(gatewayRequestModel()),
    });
    const paramsValidator: RequestValidator = this.api.addRequestValidator('Parameters', {
      validateRequestBody: false,
      validateRequestParameters: true,
    });
    const bodyValidator: RequestValidator =
      props.validateRequestBody === true
        ? this.api.addRequestValidator('BodyAndParameters', {
            validateRequestBody: true,
            validateRequestParameters: true,
          })
        : paramsValidator;

    // ---- the same error shape for what the gateway itself refuses ----
    const corsHeaders: Record<string, string> =
      origins.length === 1 ? { 'Access-Control-Allow-Origin': `'${origins[0]}'` } : {};
    this.api.addGatewayResponse('BadRequestBody', {
      type: ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      responseHeaders: corsHeaders,
      templates: {
        'application/json': errorTemplate(
          '"ValidationError"',
          '"invalid request: the body does not match the VideoRequest schema: $context.error.validationErrorString"',
          '[{"field":"body","message":"$context.error.validationErrorString"}]',
        ),
      },
    });
    this.api.addGatewayResponse('BadRequestParameters', {
      type: ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '400',
      responseHeaders: corsHeaders,
      templates: {
        'application/json': errorTemplate(
          '"ValidationError"',
          '"invalid request: a required parameter is missing: $context.error.validationErrorString"',
        ),
      },
    });
    for (const [name, type] of [
      ['Default4xx', ResponseType.DEFAULT_4XX],
      ['Default5xx', ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(name, {
        type,
        responseHeaders: corsHeaders,
        templates: {
          'application/json': errorTemplate('"$context.error.responseType"', '$context.error.messageString'),
        },
      });
    }

    // ---- routes: one function each, with only the access it needs ----
    const baseEnvironment: Record<string, string> = {
      [ENV.jobsTable]: props.jobsTable.tableName,
      // Tells the handlers every request carries an identity: one without owns nothing and sees nothing.
      [ENV.apiAuth]: auth,
      ...(origins.length === 0 ? {} : { [ENV.corsAllowOrigins]: origins.join(',') }),
    };
    const functions: Record<string, VideoFunction> = {};
    const resources = new Map<string, Resource>();
    const resourceFor = (path: string): Resource => {
      const existing = resources.get(path);
      if (existing !== undefined) return existing;
      const parts = path.split('/').filter((p) => p !== '');
      const last = parts.at(-1);
      if (last === undefined) throw new Error(`route path ${path} has no resource`);
      const parent = parts.length === 1 ? this.api.root : resourceFor(`/${parts.slice(0, -1).join('/')}`);
      const resource = parent.addResource(last);
      resources.set(path, resource);
      return resource;
    };

    for (const route of API_ROUTES as readonly ApiRouteSpec[]) {
      const environment = { ...baseEnvironment, ...this.#environmentFor(route, props, linkTtl) };
      const fn = new VideoFunction(
        this,
        `${route.operationId[0]?.toUpperCase()}${route.operationId.slice(1)}`,
        {
          entry: handlerEntry(route.module),
          description: `${route.method} ${route.path}: ${route.summary}`,
          environment,
        },
      );
      this.#grant(route, fn, props);
      Validations.of(fn).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously by API Gateway: a failure is answered to the caller (a 500 with a request ' +
          'id). A DLQ only ever receives failed asynchronous invocations.',
      });
      functions[route.operationId] = fn;

      const isCreate = route.method === 'POST';
      const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      resourceFor(route.path).addMethod(route.method, new LambdaIntegration(fn, { allowTestInvoke: false }), {
        operationName: route.operationId,
        requestValidator: isCreate ? bodyValidator : paramsValidator,
        ...(isCreate ? { requestModels: { 'application/json': bodyModel } } : {}),
        requestParameters: {
          ...Object.fromEntries(pathParams.map((p) => [`method.request.path.${p}`, true])),
          ...(isCreate ? { [`method.request.header.${IDEMPOTENCY_KEY_HEADER}`]: false } : {}),
          ...(route.operationId === 'listVideos'
            ? {
                'method.request.querystring.status': false,
                'method.request.querystring.limit': false,
                'method.request.querystring.cursor': false,
              }
            : {}),
        },
      });
    }
    this.functions = functions;

    // ---- API keys: a key and a usage plan that throttles and caps it ----
    if (auth === 'api-key') {
      const quota = props.quota;
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        description: 'Callers of the video API',
        throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
        quota: quota ?? { limit: DEFAULT_QUOTA_PER_DAY, period: Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      this.apiKey = this.api.addApiKey('ApiKey', {
        description:
          'Key for the video API; read its value with `aws apigateway get-api-key --include-value`',
      });
      this.usagePlan.addApiKey(this.apiKey);
    }

    if (props.webAclArn !== undefined) {
      new CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    }
    this.#acknowledgeNagFindings(
      auth,
      origins.length > 0,
      props.webAclArn !== undefined,
      props.validateRequestBody === true,
    );
  }

  #environmentFor(route: ApiRouteSpec, props: VideoApiProps, linkTtl: number): Record<string, string> {
    switch (route.operationId) {
      case 'createVideo':
        return { [ENV.stateMachineArn]: props.stateMachine.stateMachineArn };
      case 'cancelVideo':
        return {
          [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
          [ENV.eventBusName]: props.eventBus.eventBusName,
        };
      case 'getVideo':
        return { [ENV.videoLinkTtlSeconds]: String(linkTtl) };
      default:
        return {};
    }
  }

  #grant(route: ApiRouteSpec, fn: VideoFunction, props: VideoApiProps): void {
    switch (route.operationId) {
      case 'createVideo':
        // Conditional put of the record; an update ends it as FAILED if the execution cannot start.
        grantOnTable(fn, props.jobsTable, ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
        props.stateMachine.grantStartExecution(fn);
        return;
      case 'getVideo':
        grantOnTable(fn, props.jobsTable, ['dynamodb:GetItem']);
        // Presigned URLs carry this function's permissions: GetObject on stored videos, nothing else.
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['s3:GetObject'],
            resources: [props.videosBucket.arnForObjects(`${VIDEOS_PREFIX}*`)],
          }),
        );
        acknowledgeFor(fn.role ?? fn, props.videosBucket, (id) => ({
          id: `AwsSolutions-IAM5[Resource::<${id}.Arn>/${VIDEOS_PREFIX}*]`,
          reason:
            'GetObject under videos/ for presigned download links: one key per job, unknown at deploy time.',
        }));
        return;
      case 'listVideos':
        // The indexes it lists by, not index/*: a caller's jobs by owner (byStatus for an unauthenticated
        // local API only), and no item access at all.
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['dynamodb:Query'],
            resources: [JOB_INDEXES.byOwner, JOB_INDEXES.byStatus].map(
              (index) => `${props.jobsTable.tableArn}/index/${index}`,
            ),
          }),
        );
        return;
      case 'cancelVideo':
        grantOnTable(fn, props.jobsTable, ['dynamodb:UpdateItem', 'dynamodb:GetItem']);
        props.stateMachine.grantExecution(fn, 'states:StopExecution');
        props.eventBus.grantPutEventsTo(fn);
        acknowledgeFor(fn.role ?? fn, props.stateMachine, (id) => ({
          id:
            'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:' +
            `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${id}"}]}]}:*]`,
          reason:
            'StopExecution on the executions of the VideoJob state machine: one per job, named at run time.',
        }));
        return;
      default:
        throw new Error(`no grants defined for route ${route.operationId}`);
    }
  }

  #acknowledgeNagFindings(auth: VideoApiAuth, cors: boolean, hasWaf: boolean, validateBodies: boolean): void {
    const here = Validations.of(this);
    here.acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        auth === 'iam'
          ? 'The API uses IAM (SigV4) authorization, not Cognito: callers are AWS principals.'
          : "The API is configured for API keys with a usage plan, by the deployer's choice; IAM is the default.",
    });
    if (auth === 'api-key') {
      here.acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'API keys with a usage plan were chosen in the configuration instead of IAM authorization.',
      });
    } else if (cors) {
      here.acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Only the CORS preflight (OPTIONS) methods are unauthenticated, as browsers send them without credentials.',
      });
    }
    if (!validateBodies) {
      here.acknowledge({
        id: 'AwsSolutions-APIG2',
        reason:
          'Parameters are validated at the gateway; bodies once, by the handler, with the one request schema: ' +
          'it refuses any Content-Type but JSON (415), checks what JSON Schema cannot (UTF-8, lone surrogates) ' +
          'and names each field at fault. Opt in to a gateway body check with validateRequestBody.',
      });
    }
    if (!hasWaf) {
      here.acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'Every request is authenticated and the stage and POST /videos are throttled; a WAF web ACL can be ' +
          'attached with the webAclArn option where one exists.',
      });
    }
    here.acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]`,
      reason:
        'The account-level role API Gateway needs to write access logs; the AWS-managed policy is the one ' +
        'AWS documents for it and allows log writes only.',
    });
  }
}
