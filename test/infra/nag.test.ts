// cdk-nag (AWS Solutions + Serverless packs) over the real app: zero unacknowledged findings, and every
// acknowledgement — kept in the constructs, so a real deploy carries it — gives a reason.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/stack';
import { type AssemblyRoot, assemblyRoot } from '#test/infra/support/cdk';

let root: AssemblyRoot;
beforeAll(() => {
  root = assemblyRoot();
});
afterAll(() => root.cleanup());

const withNag = (app: App): App => {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
};

interface ValidationReport {
  pluginReports: { pluginName: string; violations?: unknown[] }[];
}

const reportOf = (outdir: string): ValidationReport =>
  JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;

describe('cdk-nag', () => {
  it('reports findings at all (a compliant result below is not vacuous)', () => {
    const outdir = root.outdir();
    const app = withNag(new App({ outdir, builtinCloudFormationValidation: false }));
    new Bucket(new Stack(app, 'Careless'), 'Bucket');
    expect(() => app.synth()).toThrow();
    expect(JSON.stringify(reportOf(outdir))).toContain('AwsSolutions-S10');
  });

  it.each([
    ['with the Segmind key secret it creates', {}],
    ['with an existing Segmind key secret', { segmindApiKeySecretName: 'prod/segmind-api-key' }],
    ['with API keys instead of IAM (-c apiAuth=api-key)', { apiAuth: 'api-key' }],
  ])('finds nothing unacknowledged in the app %s', (_, context) => {
    const outdir = root.outdir();
    const { app } = buildApp({ bundling: false, outdir, context, cloudFormationValidation: false });
    withNag(app);
    expect(() => app.synth()).not.toThrow();
    const report = reportOf(outdir);
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('has a written reason for every acknowledgement', () => {
    const { app } = buildApp({ bundling: false, outdir: root.outdir(), cloudFormationValidation: false });
    const acknowledgements = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, unknown>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect(typeof reason, id).toBe('string');
      expect((reason as string).length, id).toBeGreaterThanOrEqual(30);
    }
  });

  it('leaves a normal synth (no nag plugin) untouched', () => {
    const outdir = root.outdir();
    const { app } = buildApp({ bundling: false, outdir, cloudFormationValidation: false });
    expect(() => app.synth()).not.toThrow();
    expect(existsSync(join(outdir, 'LtxVideoPipeline.template.json'))).toBe(true);
  });
});
