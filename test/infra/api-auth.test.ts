// How API callers authenticate is a deploy-time choice: `cdk deploy -c apiAuth=api-key` swaps IAM (the
// default) for API keys with a usage plan, on every route, and says where to find the key.
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp, CONTEXT_KEYS } from '#infra/stack';
import { type AssemblyRoot, assemblyRoot, type SynthesizedApp, synthApp } from '#test/infra/support/cdk';

let root: AssemblyRoot;
beforeAll(() => {
  root = assemblyRoot();
});
afterAll(() => root.cleanup());
afterEach(() => {
  vi.unstubAllEnvs();
});

/** The API's methods, CORS preflights aside. */
const methodsOf = (app: SynthesizedApp) =>
  Object.values(app.template.findResources('AWS::ApiGateway::Method')).filter(
    (method) => method.Properties.HttpMethod !== 'OPTIONS',
  );

describe('API authentication', () => {
  it('is IAM by default: every route wants a SigV4-signed request, and there is no API key', () => {
    const app = synthApp(root);
    const methods = methodsOf(app);
    expect(methods).toHaveLength(4);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({ AuthorizationType: 'AWS_IAM' });
      expect(method.Properties.ApiKeyRequired).not.toBe(true);
    }
    app.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    expect(Object.keys(app.template.findOutputs('ApiKeyId'))).toEqual([]);
  });

  it('is API keys with a usage plan with -c apiAuth=api-key, and the key id is an output', () => {
    const app = synthApp(root, { context: { [CONTEXT_KEYS.apiAuth]: 'api-key' } });
    const methods = methodsOf(app);
    expect(methods).toHaveLength(4);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
    }
    app.template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    app.template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    app.template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    app.template.hasOutput('ApiKeyId', { Value: { Ref: Match.anyValue() } });
    app.template.hasOutput('ApiUrl', { Description: Match.stringLikeRegexp('x-api-key') });
  });

  it('reads the context the CDK CLI passes (CDK_CONTEXT_JSON), as `cdk deploy -c` does', () => {
    vi.stubEnv('CDK_CONTEXT_JSON', JSON.stringify({ apiAuth: 'api-key' }));
    const app = synthApp(root);
    app.template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
  });

  it('refuses a mode it does not know, naming the choices', () => {
    expect(() =>
      buildApp({ bundling: false, outdir: root.outdir(), context: { apiAuth: 'cognito' } }),
    ).toThrow('context apiAuth must be iam or api-key, got "cognito"');
  });
});
