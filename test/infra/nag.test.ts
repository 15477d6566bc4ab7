// cdk-nag (AWS Solutions + Serverless packs) over the real app: zero unacknowledged findings, and every
// acknowledgement — kept in the constructs, so a real deploy carries it — gives a reason. A construct added
// to the app without answering its findings fails here (as `npm run nag` and `cdk synth` with the packs do).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgementsOf, auditNag, describeAudit } from '#infra/nag';
import { buildApp, STACK_NAME } from '#infra/stack';
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

    // The same packs, counting what they found and what answers each finding.
    const audit = auditNag(app);
    console.info(describeAudit(audit).join('\n'));
    expect(audit.packs).toEqual(['AwsSolutions', 'Serverless']);
    expect(audit.unacknowledged).toEqual([]);
    expect(audit.findings.every((finding) => finding.acknowledged)).toBe(true);
    // Every part of the app was checked: each construct of the stack has findings it answers.
    for (const part of ['VideoJobWorkflow', 'ExecutionReconciler', 'Api', 'Uploads', 'Batch']) {
      const prefix = `${STACK_NAME}/${part}/`;
      expect(
        audit.findings.some((finding) => finding.path.startsWith(prefix)),
        part,
      ).toBe(true);
    }
  });

  it('counts an unanswered finding as unacknowledged (the audit is not vacuous)', () => {
    const { app, stack } = buildApp({
      bundling: false,
      outdir: root.outdir(),
      cloudFormationValidation: false,
    });
    new Bucket(stack, 'Careless');
    app.synth();
    const audit = auditNag(app);
    expect(audit.unacknowledged.map((violation) => violation.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
    expect(describeAudit(audit).join('\n')).toMatch(/UNACKNOWLEDGED AwsSolutions-S10 at \S+\/Careless/);
  });

  it('has a written reason for every acknowledgement', () => {
    const { app } = buildApp({ bundling: false, outdir: root.outdir(), cloudFormationValidation: false });
    const acknowledgements = acknowledgementsOf(app);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { id, path, reason } of acknowledgements) {
      expect(reason.trim().length, `${id} at ${path}`).toBeGreaterThanOrEqual(30);
    }
  });

  it('leaves a normal synth (no nag plugin) untouched', () => {
    const outdir = root.outdir();
    const { app } = buildApp({ bundling: false, outdir, cloudFormationValidation: false });
    expect(() => app.synth()).not.toThrow();
    expect(existsSync(join(outdir, 'LtxVideoPipeline.template.json'))).toBe(true);
  });
});
