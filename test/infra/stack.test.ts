// The wired stack: what each VideoJob function is configured with and allowed to do, the Segmind key
// secret, and the state machine's role. Least privilege is asserted as "nothing beyond this list".
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIDEO_STAGING_PREFIX } from '#adapters/video-upload';
import { ENV } from '#commons/env';
import { videoKey } from '#domain/store-video';
import { API_ROUTES } from '#functions/api/routes';
import type { VideoJobHandler } from '#infra/constructs/handlers';
import { VIDEOS_PREFIX } from '#infra/constructs/storage';
import { VideoFunction } from '#infra/constructs/video-function';
import type { CfnTemplate } from '#infra/definition';
import {
  type AssemblyRoot,
  assemblyRoot,
  getAttTarget,
  logicalIdOf,
  propertiesOf,
  type SynthesizedApp,
  synthApp,
} from '#test/infra/support/cdk';

let root: AssemblyRoot;
let app: SynthesizedApp;

beforeAll(() => {
  root = assemblyRoot();
  app = synthApp(root);
});
afterAll(() => root.cleanup());

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of the inline policies attached to a role, with actions as a list. */
const statementsOf = (json: CfnTemplate, roleLogicalId: string): (Statement & { Action: string[] })[] =>
  Object.values(json.Resources ?? {})
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties?.Roles).includes(`"${roleLogicalId}"`))
    .flatMap(
      (r) => (r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
    )
    .map((s) => ({ ...s, Action: [s.Action].flat() }));

const roleOf = (name: VideoJobHandler): string => {
  const fn = app.stack.workflow.functions[name];
  return getAttTarget(propertiesOf(app.json, logicalIdOf(app, fn)).Role);
};

const actionsOf = (name: VideoJobHandler): string[] =>
  statementsOf(app.json, roleOf(name))
    .flatMap((s) => s.Action)
    .sort();

const tableArn = () => ({ 'Fn::GetAtt': [logicalIdOf(app, app.stack.storage.jobs), 'Arn'] });
const secretRef = () => ({ Ref: logicalIdOf(app, app.stack.segmindApiKey.secret) });

const ALL: VideoJobHandler[] = ['submit', 'poll-status', 'fetch-result', 'store-video', 'record-failure'];
/**
 * The backstops: the ExecutionReconciler's function ends jobs whose execution stopped where no Catch runs;
 * the JobSweeper's starts or resumes jobs no execution is driving.
 */
const BACKSTOP_MODULES = ['functions/reconcile-execution.ts', 'functions/sweep-jobs.ts'];
/** The other entry points: image uploads and scheduled batches. */
const ENTRY_POINT_MODULES = [
  'functions/start-from-upload.ts',
  'functions/prepare-batch.ts',
  'functions/summarize-batch.ts',
];
const CALLS_SEGMIND: VideoJobHandler[] = ['submit', 'poll-status', 'fetch-result'];

describe('buildApp', () => {
  it('builds one stack holding the VideoJob functions, one per API route and the entry points, each bound to its handler module', () => {
    const functions = VideoFunction.allIn(app.stack);
    const apiModules = API_ROUTES.map((route) => `functions/${route.module}.ts`);
    expect(functions.map((fn) => fn.entry.replace(/^.*\/functions\//, 'functions/')).sort()).toEqual(
      [
        ...ALL.map((name) => `functions/${name}.ts`),
        ...apiModules,
        ...BACKSTOP_MODULES,
        ...ENTRY_POINT_MODULES,
      ].sort(),
    );
    app.template.resourceCountIs(
      'AWS::Lambda::Function',
      ALL.length + API_ROUTES.length + BACKSTOP_MODULES.length + ENTRY_POINT_MODULES.length,
    );
    // The VideoJob workflow and the batch workflow that starts one VideoJob per manifest line.
    app.template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    app.template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    app.template.hasOutput('ApiUrl', {});
  });

  it('gives no physical names to buckets, tables, functions or the state machine', () => {
    // API Gateway names are labels scoped to the one API (a RestApi's Name is required and need not be
    // unique), not physical names; a name that refers to another resource (a Lambda permission's
    // FunctionName) is that resource's generated one.
    const named = Object.values(app.json.Resources ?? {}).filter(
      (r) => !r.Type.startsWith('AWS::ApiGateway::'),
    );
    for (const resource of named) {
      for (const name of ['BucketName', 'TableName', 'FunctionName', 'StateMachineName', 'Name']) {
        expect(typeof resource.Properties?.[name], `${resource.Type}.${name}`).not.toBe('string');
      }
    }
  });
});

describe('the VideoJob functions', () => {
  it('run Node.js 22 on ARM with active tracing, their own log group and Powertools settings', () => {
    for (const name of ALL) {
      const fn = app.stack.workflow.functions[name];
      expect(app.json.Resources?.[logicalIdOf(app, fn)]?.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'ltx-video-pipeline',
            POWERTOOLS_METRICS_NAMESPACE: 'LtxVideoPipeline',
            [ENV.jobsTable]: { Ref: logicalIdOf(app, app.stack.storage.jobs) },
          },
        },
      });
    }
  });

  it('sizes store-video for a long streamed copy and the others small', () => {
    const props = (name: VideoJobHandler) =>
      app.json.Resources?.[logicalIdOf(app, app.stack.workflow.functions[name])]?.Properties ?? {};
    expect(props('store-video')).toMatchObject({ MemorySize: 1024 });
    expect(props('store-video').Timeout).toBeGreaterThanOrEqual(600);
    for (const name of ALL.filter((n) => n !== 'store-video')) {
      expect(props(name).MemorySize).toBeLessThanOrEqual(512);
      expect(props(name).Timeout).toBeLessThanOrEqual(60);
    }
  });

  it('give the Segmind callers the secret name only — never a plain API key', () => {
    for (const name of ALL) {
      const variables = app.json.Resources?.[logicalIdOf(app, app.stack.workflow.functions[name])]?.Properties
        ?.Environment as { Variables: Record<string, unknown> };
      expect(variables.Variables).not.toHaveProperty(ENV.segmindApiKey);
      if (CALLS_SEGMIND.includes(name)) {
        expect(variables.Variables[ENV.segmindApiKeySecret]).toEqual(secretRef());
      } else {
        expect(variables.Variables).not.toHaveProperty(ENV.segmindApiKeySecret);
      }
    }
    expect(JSON.stringify(app.json)).not.toMatch(/SG_[0-9a-f]{16}/);
  });

  it('tell store-video which bucket to write to', () => {
    app.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('stream the video'),
      Environment: { Variables: { [ENV.videosBucket]: { Ref: logicalIdOf(app, app.stack.storage.videos) } } },
    });
  });

  it('have roles without managed policies (no AWSLambdaBasicExecutionRole: logs:* on every group)', () => {
    for (const name of ALL) {
      expect(app.json.Resources?.[roleOf(name)]?.Properties).not.toHaveProperty('ManagedPolicyArns');
    }
  });

  it('may write logs to their own log group only', () => {
    for (const name of ALL) {
      const logs = statementsOf(app.json, roleOf(name)).filter((s) =>
        s.Action.some((a) => a.startsWith('logs:')),
      );
      expect(logs).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/Logs[0-9A-F]{8}$/), 'Arn'] },
        }),
      ]);
    }
  });

  /** The DynamoDB actions a function's role allows on one resource (CDK may merge statements). */
  const dynamoActionsOn = (name: VideoJobHandler, resource: unknown): string[] =>
    statementsOf(app.json, roleOf(name))
      .filter((statement) => {
        const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        return resources.some((r) => JSON.stringify(r) === JSON.stringify(resource));
      })
      .flatMap((statement) => statement.Action.filter((a) => a.startsWith('dynamodb:')))
      .sort();
  const variablesOf = (name: VideoJobHandler): Record<string, unknown> =>
    (
      propertiesOf(app.json, logicalIdOf(app, app.stack.workflow.functions[name])).Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

  it('touch job records item by item, on the table and not its indexes; only submit creates one', () => {
    for (const name of ALL) {
      const expected =
        name === 'submit'
          ? ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']
          : ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
      expect(dynamoActionsOn(name, tableArn())).toEqual(expected);
      const onIndexes = statementsOf(app.json, roleOf(name)).filter((statement) =>
        JSON.stringify(statement.Resource).includes('/index/'),
      );
      expect(onIndexes).toEqual([]);
    }
  });

  it('draw on the request budget only where Segmind is called: its one item, read and conditionally updated', () => {
    const budgetTable = logicalIdOf(app, app.stack.storage.requestBudget);
    for (const name of ALL) {
      const actions = dynamoActionsOn(name, { 'Fn::GetAtt': [budgetTable, 'Arn'] });
      if (CALLS_SEGMIND.includes(name)) {
        expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
        expect(variablesOf(name)[ENV.requestBudgetTable]).toEqual({ Ref: budgetTable });
      } else {
        expect(actions).toEqual([]);
        expect(variablesOf(name)[ENV.requestBudgetTable]).toBeUndefined();
      }
    }
  });

  it('size the request budget from the segmindRequestsPerMinute context (Segmind Pro, 50, when unset)', () => {
    const small = synthApp(root, { context: { segmindRequestsPerMinute: '5' } });
    const submit = propertiesOf(small.json, logicalIdOf(small, small.stack.workflow.functions.submit));
    expect((submit.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      [ENV.segmindRequestsPerMinute]: '5',
    });
    expect(variablesOf('submit')[ENV.segmindRequestsPerMinute]).toBeUndefined();
    expect(() => synthApp(root, { context: { segmindRequestsPerMinute: 'many' } })).toThrow(
      /segmindRequestsPerMinute must be a positive number/,
    );
  });

  it('read the Segmind secret only where Segmind is called', () => {
    for (const name of ALL) {
      const secret = statementsOf(app.json, roleOf(name)).filter((s) =>
        s.Action.some((a) => a.startsWith('secretsmanager:')),
      );
      if (CALLS_SEGMIND.includes(name)) {
        expect(secret).toEqual([
          expect.objectContaining({
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: secretRef(),
          }),
        ]);
      } else {
        expect(secret).toEqual([]);
      }
    }
  });

  it('let only store-video touch S3: staging objects, and PutObject on videos/* (no delete there)', () => {
    const videosArn = { 'Fn::GetAtt': [logicalIdOf(app, app.stack.storage.videos), 'Arn'] };
    for (const name of ALL.filter((n) => n !== 'store-video')) {
      expect(actionsOf(name).filter((a) => a.startsWith('s3:'))).toEqual([]);
    }
    const s3 = statementsOf(app.json, roleOf('store-video')).filter((s) =>
      s.Action.some((a) => a.startsWith('s3:')),
    );
    expect(s3).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['s3:PutObject'],
          Resource: { 'Fn::Join': ['', [videosArn, '/videos/*']] },
        }),
        expect.objectContaining({
          Action: expect.arrayContaining([
            's3:PutObject',
            's3:AbortMultipartUpload',
            's3:DeleteObjectVersion',
          ]),
          Resource: { 'Fn::Join': ['', [videosArn, '/staging/*']] },
        }),
      ]),
    );
    expect(s3).toHaveLength(2);
    // The keys store-video writes fall under the prefixes granted here.
    expect(videoKey('job-1', new Date()).startsWith(VIDEOS_PREFIX)).toBe(true);
    expect(VIDEO_STAGING_PREFIX).toBe('staging/');
  });

  it('hold no other permissions than these and X-Ray', () => {
    for (const name of ALL) {
      const unexpected = actionsOf(name).filter((a) => !/^(logs|dynamodb|secretsmanager|s3|xray):/.test(a));
      expect(unexpected, name).toEqual([]);
      for (const s of statementsOf(app.json, roleOf(name))) {
        if (s.Resource === '*') expect(s.Action.every((a) => a.startsWith('xray:'))).toBe(true);
      }
    }
  });
});

describe('the Segmind API key secret', () => {
  it('is created empty (no generated value to mistake for a key), with instructions', () => {
    app.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('Segmind API key.*put-secret-value'),
      GenerateSecretString: Match.absent(),
      SecretString: Match.absent(),
    });
  });

  it('can instead be an existing secret named in context', () => {
    const imported = synthApp(root, { context: { segmindApiKeySecretName: 'prod/segmind-api-key' } });
    imported.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const submit = imported.stack.workflow.functions.submit;
    const props =
      imported.json.Resources?.[imported.stack.getLogicalId(submit.node.defaultChild as CfnElement)]
        ?.Properties;
    expect(props?.Environment).toMatchObject({
      Variables: { [ENV.segmindApiKeySecret]: 'prod/segmind-api-key' },
    });
    expect(JSON.stringify(imported.json)).toContain(':secret:prod/segmind-api-key-??????');
  });
});

describe('where the video download may fetch from', () => {
  it('is configured alike on Submit (checked before the POST) and StoreVideo (used by the download)', () => {
    const proxied = synthApp(root, {
      context: {
        segmindBaseUrl: 'http://segmind-proxy.internal.example:8080',
        allowedVideoHosts: 'files.proxy.example:443',
      },
    });
    const environmentOf = (name: VideoJobHandler) =>
      proxied.json.Resources?.[
        proxied.stack.getLogicalId(proxied.stack.workflow.functions[name].node.defaultChild as CfnElement)
      ]?.Properties?.Environment;
    for (const name of ['submit', 'store-video'] as const) {
      expect(environmentOf(name), name).toMatchObject({
        Variables: {
          [ENV.segmindBaseUrl]: 'http://segmind-proxy.internal.example:8080',
          [ENV.allowedVideoHosts]: 'files.proxy.example:443',
        },
      });
    }
  });

  it('refuses at synth an extra host that names no port', () => {
    expect(() => synthApp(root, { context: { allowedVideoHosts: 'files.proxy.example' } })).toThrow(
      /allowedVideoHosts: "files.proxy.example" is not a host:port pair/,
    );
  });
});

describe('the state machine role', () => {
  it('may invoke exactly the five functions, update the jobs table and put events on the bus', () => {
    const roleId = getAttTarget(
      propertiesOf(app.json, logicalIdOf(app, app.stack.workflow.stateMachine)).RoleArn,
    );
    const statements = statementsOf(app.json, roleId);

    const invoke = statements.filter((s) => s.Action.includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    const invoked = JSON.stringify(invoke[0]?.Resource);
    for (const name of ALL) expect(invoked).toContain(logicalIdOf(app, app.stack.workflow.functions[name]));
    expect(invoke[0]?.Action).toEqual(['lambda:InvokeFunction']);

    const dynamo = statements.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([expect.objectContaining({ Action: ['dynamodb:UpdateItem'] })]);
    expect(JSON.stringify(dynamo[0]?.Resource)).toContain(logicalIdOf(app, app.stack.storage.jobs));
    expect(JSON.stringify(dynamo[0]?.Resource)).not.toContain('index');

    const events = statements.filter((s) => s.Action.some((a) => a.startsWith('events:')));
    expect(events).toEqual([expect.objectContaining({ Action: ['events:PutEvents'] })]);
    expect(JSON.stringify(events[0]?.Resource)).toContain(':event-bus/default');

    const others = statements
      .flatMap((s) => s.Action)
      .filter((a) => !/^(lambda:InvokeFunction|dynamodb:UpdateItem|events:PutEvents|logs:|xray:)/.test(a));
    expect(others).toEqual([]);
  });
});

describe('every state machine of the app', () => {
  it('logs every event to CloudWatch without execution data: presigned image and video URLs stay out', () => {
    const machines = app.template.findResources('AWS::StepFunctions::StateMachine');
    // The VideoJob workflow and the batch, at least; one added later is held to the same rule.
    expect(Object.keys(machines).length).toBeGreaterThanOrEqual(2);
    for (const [id, machine] of Object.entries(machines)) {
      expect(machine.Properties?.LoggingConfiguration, id).toEqual({
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: expect.anything() } }],
      });
    }
  });
});
