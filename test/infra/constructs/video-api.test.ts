// The API construct as synthesized: auth, throttling, validation from the one schema, access logs, CORS,
// least-privilege grants, and no unacknowledged cdk-nag finding.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayRequestModel } from '#domain/api-schemas';
import { VideoApi, type VideoApiProps } from '#infra/constructs/video-api';
import { assemblyRoot } from '#test/infra/support/cdk';

const root = assemblyRoot();
afterAll(() => root.cleanup());

type Options = Omit<VideoApiProps, 'jobsTable' | 'stateMachine' | 'videosBucket' | 'eventBus'>;

const build = (options: Options = {}, nag = false) => {
  const app = new App({ outdir: root.outdir(), context: { 'aws:cdk:bundling-stacks': [] } });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(), new ServerlessChecks());
  const stack = new Stack(app, 'ApiTest');
  const jobsTable = new Table(stack, 'Jobs', { partitionKey: { name: 'jobId', type: AttributeType.STRING } });
  jobsTable.addGlobalSecondaryIndex({
    indexName: 'byStatus',
    partitionKey: { name: 'status', type: AttributeType.STRING },
    sortKey: { name: 'createdAt', type: AttributeType.STRING },
  });
  const stateMachine = new StateMachine(stack, 'VideoJob', {
    definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Start')),
  });
  const videosBucket = new Bucket(stack, 'Videos');
  const eventBus = new EventBus(stack, 'Bus');
  const api = new VideoApi(stack, 'Api', { jobsTable, stateMachine, videosBucket, eventBus, ...options });
  return { app, stack, api };
};

const templateOf = (options: Options = {}) => {
  const built = build(options);
  return { ...built, template: Template.fromStack(built.stack) };
};

type Resources = Record<string, { Properties: Record<string, unknown> }>;

/** The API methods (OPTIONS preflights aside), by HTTP method and resource path part. */
const methodsOf = (template: Template) =>
  Object.values(template.findResources('AWS::ApiGateway::Method') as Resources).filter(
    (m) => m.Properties.HttpMethod !== 'OPTIONS',
  );

/** Every IAM action granted to the function whose description starts with `route`, e.g. `GET /videos:`. */
const actionsOf = (template: Template, route: string): string[] => {
  const functions = template.findResources('AWS::Lambda::Function') as Resources;
  const fn = Object.values(functions).find((f) => String(f.Properties.Description).startsWith(`${route}:`));
  const roleId = (fn?.Properties.Role as { 'Fn::GetAtt': [string] } | undefined)?.['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy') as Resources).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) =>
    (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    ),
  );
};

describe('VideoApi defaults', () => {
  const { template, api } = templateOf();

  it('requires IAM (SigV4) on every method and has no API key or usage plan', () => {
    const methods = methodsOf(template);
    expect(methods).toHaveLength(4);
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
  });

  it('validates bodies once, in the handler: the gateway checks parameters and documents the body model', () => {
    const models = Object.values(template.findResources('AWS::ApiGateway::Model') as Resources);
    expect(models).toHaveLength(1);
    expect(models[0]?.Properties.Schema).toEqual(gatewayRequestModel());

    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestModels: { 'application/json': { Ref: Match.anyValue() } },
      RequestValidatorId: { Ref: Match.anyValue() },
      RequestParameters: { 'method.request.header.Idempotency-Key': false },
    });
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: false,
      ValidateRequestParameters: true,
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'DELETE',
      RequestParameters: { 'method.request.path.jobId': true },
    });
  });

  it('throttles the stage, and POST /videos harder, with tracing, error logs and no body logging', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        }),
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1videos',
          ThrottlingRateLimit: 2,
          ThrottlingBurstLimit: 5,
        }),
      ]),
    });
  });

  it('writes JSON access logs with the request id an error body quotes', () => {
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage') as Resources)[0];
    const setting = stage?.Properties.AccessLogSetting as { DestinationArn: unknown; Format: string };
    expect(setting.DestinationArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ApiAccessLogs/), 'Arn'],
    });
    const format = JSON.parse(setting.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      userArn: '$context.identity.userArn',
      validationError: '$context.error.validationErrorString',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it("answers what the gateway refuses in the handlers' error shape", () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: {
        'application/json': Match.stringLikeRegexp(
          '"code":"ValidationError".*validationErrorString.*"requestId"',
        ),
      },
    });
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'BAD_REQUEST_PARAMETERS']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: type });
    }
  });

  it('has no CORS unless asked for', () => {
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'OPTIONS' }, 0);
  });

  it('gives each function its configuration and only the access it needs', () => {
    expect(Object.keys(api.functions).sort()).toEqual([
      'cancelVideo',
      'createVideo',
      'getVideo',
      'listVideos',
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^POST /videos:'),
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({
          JOBS_TABLE_NAME: { Ref: Match.anyValue() },
          STATE_MACHINE_ARN: { Ref: Match.anyValue() },
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^GET /videos/\\{jobId\\}:'),
      Environment: { Variables: Match.objectLike({ VIDEO_LINK_TTL_SECONDS: '900' }) },
    });

    expect(actionsOf(template, 'POST /videos')).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'states:StartExecution']),
    );
    expect(actionsOf(template, 'GET /videos/{jobId}')).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 's3:GetObject']),
    );
    expect(actionsOf(template, 'DELETE /videos/{jobId}')).toEqual(
      expect.arrayContaining(['dynamodb:UpdateItem', 'states:StopExecution', 'events:PutEvents']),
    );
    // A stopped execution publishes nothing: the cancel announces the job's end on the workflow's bus.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^DELETE /videos/\\{jobId\\}:'),
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: { Ref: Match.anyValue() } }) },
    });
    const listing = actionsOf(template, 'GET /videos');
    expect(listing).toContain('dynamodb:Query');
    expect(listing).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    expect(actionsOf(template, 'GET /videos/{jobId}')).not.toEqual(expect.arrayContaining(['s3:PutObject']));
  });
});

describe('VideoApi options', () => {
  it('uses API keys with a throttled, capped usage plan when configured', () => {
    const { template } = templateOf({ auth: 'api-key', quota: { limit: 500, period: 'DAY' as never } });
    for (const method of methodsOf(template)) {
      expect(method.Properties).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
    }
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 10, BurstLimit: 20 },
      Quota: { Limit: 500, Period: 'DAY' },
      ApiStages: [Match.objectLike({ Stage: { Ref: Match.anyValue() } })],
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('answers CORS preflights without credentials and tells the functions which origins to echo', () => {
    const { template } = templateOf({ corsAllowOrigins: ['https://app.example.com'] });
    const preflights = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources).filter(
      (m) => m.Properties.HttpMethod === 'OPTIONS',
    );
    expect(preflights.length).toBeGreaterThan(0);
    for (const preflight of preflights) expect(preflight.Properties.AuthorizationType).toBe('NONE');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CORS_ALLOW_ORIGINS: 'https://app.example.com' }) },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'DEFAULT_4XX',
      ResponseParameters: {
        'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'",
      },
    });
  });

  it('checks POST bodies at the gateway too when asked to', () => {
    const { template } = templateOf({ validateRequestBody: true });
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 2);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
  });

  it('takes custom throttling and stage name', () => {
    const { template } = templateOf({ throttle: { rateLimit: 50, burstLimit: 100 }, stageName: 'prod' });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ]),
    });
  });

  it.each([
    ['a negative rate', { throttle: { rateLimit: -1, burstLimit: 1 } }, /rateLimit and burstLimit/],
    ['"*" with other origins', { corsAllowOrigins: ['*', 'https://a.example'] }, /cannot be combined/],
  ] as const)('refuses %s', (_name, options, message) => {
    expect(() => build(options as Options)).toThrow(message);
  });
});

describe('cdk-nag (AwsSolutions, Serverless)', () => {
  it.each([
    ['IAM', {}],
    ['API keys with CORS', { auth: 'api-key', corsAllowOrigins: ['*'] }],
  ] as const)('finds nothing unacknowledged in the API construct (%s)', (_name, options) => {
    const { app } = build(options as Options, true);
    const outdir = app.outdir;
    try {
      app.synth();
    } catch {
      // Findings elsewhere in this test stack (the stand-in table, bucket and state machine) fail the synth;
      // the report below is what counts for the construct under test.
    }
    const reportPath = join(outdir, 'validation-report.json');
    const report = existsSync(reportPath)
      ? (JSON.parse(readFileSync(reportPath, 'utf8')) as {
          pluginReports: {
            violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
          }[];
        })
      : { pluginReports: [] };
    const ours = report.pluginReports.flatMap((plugin) =>
      plugin.violations.flatMap((v) =>
        v.violatingConstructs
          .filter((c) => c.constructPath.startsWith('ApiTest/Api/'))
          .map((c) => `${v.ruleName} ${c.constructPath}`),
      ),
    );
    expect(ours).toEqual([]);
  });
});
