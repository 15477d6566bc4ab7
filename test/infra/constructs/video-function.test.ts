// The house function: the settings every Lambda of the pipeline shares, and a real esbuild bundle of a
// small handler, loaded and called, to prove the ESM output (and its `require` banner) works.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  POWERTOOLS_METRICS_NAMESPACE,
  POWERTOOLS_SERVICE_NAME,
  VideoFunction,
} from '#infra/constructs/video-function';
import { type AssemblyRoot, assemblyRoot } from '#test/infra/support/cdk';

const FIXTURE = fileURLToPath(new URL('../fixtures/esm-handler.ts', import.meta.url));

let root: AssemblyRoot;
beforeAll(() => {
  root = assemblyRoot();
});
afterAll(() => root.cleanup());

const stackWith = (bundling: boolean, build: (stack: Stack) => void) => {
  const outdir = root.outdir();
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    ...(bundling ? {} : { context: { 'aws:cdk:bundling-stacks': [] } }),
  });
  const stack = new Stack(app, 'Test');
  build(stack);
  return { app, stack, outdir, template: Template.fromStack(stack) };
};

describe('VideoFunction', () => {
  it('sets the house runtime, architecture, tracing and Powertools settings, merged with the caller’s environment', () => {
    let fn: VideoFunction | undefined;
    const { template, stack } = stackWith(false, (s) => {
      fn = new VideoFunction(s, 'Greeter', {
        entry: FIXTURE,
        memorySize: 512,
        timeout: Duration.seconds(12),
        environment: { GREETING: 'hello', POWERTOOLS_SERVICE_NAME: 'greeter' },
      });
    });
    const props =
      template.toJSON().Resources[stack.getLogicalId(fn?.node.defaultChild as CfnElement)].Properties;
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 12,
      Environment: {
        Variables: {
          GREETING: 'hello',
          POWERTOOLS_SERVICE_NAME: 'greeter',
          POWERTOOLS_METRICS_NAMESPACE,
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    expect(POWERTOOLS_SERVICE_NAME).toBe('ltx-video-pipeline');
  });

  it('defaults to a sized function, not Lambda’s 128 MB / 3 s', () => {
    const { template } = stackWith(false, (s) => {
      new VideoFunction(s, 'Greeter', { entry: FIXTURE });
    });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256, Timeout: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'ltx-video-pipeline' } },
    });
  });

  it('logs to its own log group with a retention, through a role scoped to that group', () => {
    const { template } = stackWith(false, (s) => {
      new VideoFunction(s, 'Greeter', { entry: FIXTURE });
    });
    const json = template.toJSON();
    const [logGroupId] =
      Object.entries(json.Resources).find(
        ([, r]) => (r as { Type: string }).Type === 'AWS::Logs::LogGroup',
      ) ?? [];
    expect(logGroupId).toBeDefined();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    });
    const statements = Object.values(
      json.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    )
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        (r) =>
          (r.Properties.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement,
      )
      .map((st) => ({ actions: [st.Action].flat().sort(), resource: st.Resource }));
    expect(statements).toEqual([
      { actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resource: '*' },
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: expect.anything() }, 0);
  });

  it('exposes the absolute handler path and can be found in a construct tree', () => {
    const { stack } = stackWith(false, (s) => {
      new VideoFunction(s, 'Greeter', { entry: 'test/infra/fixtures/esm-handler.ts' });
    });
    const [fn, ...others] = VideoFunction.allIn(stack);
    expect(others).toEqual([]);
    expect(fn?.entry).toBe(FIXTURE);
  });

  it('bundles a minified ESM handler with a source map that runs, CommonJS dependencies included', () => {
    const { app, outdir } = stackWith(true, (s) => {
      new VideoFunction(s, 'Greeter', { entry: FIXTURE });
    });
    app.synth();
    const assetDir = readdirSync(outdir).find(
      (name) => name.startsWith('asset.') && existsSync(join(outdir, name, 'index.mjs')),
    );
    expect(assetDir).toBeDefined();
    const bundle = join(outdir, assetDir ?? '', 'index.mjs');
    expect(existsSync(`${bundle}.map`)).toBe(true);
    expect(readFileSync(bundle, 'utf8').split('\n').length).toBeLessThan(10);

    // In a plain Node process: vitest's module runner would lend the bundle a `require` of its own.
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
      process.stdout.write(JSON.stringify(await handler({ name: 'lambda' })));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({
      greeting: 'hello lambda',
      platform: process.platform,
      module: 'esm',
    });
  });
});
