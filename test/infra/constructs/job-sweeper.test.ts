// The job sweeper as synthesized in the real app: a rate schedule invokes its function, which may list
// open jobs on the status index, update job items, and start and describe VideoJob executions — no more.
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#commons/env';
import { SWEEP_RULE_DESCRIPTION } from '#infra/constructs/job-sweeper';
import { sweepPeriodMs } from '#local/sweeper';
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
  Action: string | string[];
  Resource: unknown;
}

describe('the job sweeper', () => {
  it('runs every five minutes, and the local scheduler reads the same rate from the template', () => {
    const fn = logicalIdOf(app, app.stack.sweeper.function);
    app.template.hasResourceProperties('AWS::Events::Rule', {
      Description: SWEEP_RULE_DESCRIPTION,
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } })],
    });
    expect(sweepPeriodMs(app.json)).toBe(300_000);
  });

  it('knows the jobs table, the state machine and its grace period', () => {
    const fn = logicalIdOf(app, app.stack.sweeper.function);
    const variables = (propertiesOf(app.json, fn).Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(variables[ENV.jobsTable]).toEqual({ Ref: logicalIdOf(app, app.stack.storage.jobs) });
    expect(variables[ENV.stateMachineArn]).toEqual({
      Ref: logicalIdOf(app, app.stack.workflow.stateMachine),
    });
    expect(variables[ENV.sweepGraceSeconds]).toBe('300');
  });

  it('may query the status index, update job items, and start and describe executions — nothing else', () => {
    const role = getAttTarget(propertiesOf(app.json, logicalIdOf(app, app.stack.sweeper.function)).Role);
    const actions = Object.values(app.json.Resources ?? {})
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties?.Roles).includes(`"${role}"`))
      .flatMap(
        (r) => (r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
      )
      .flatMap((s) => [s.Action].flat())
      // Tracing and the function's own log group come with every VideoFunction.
      .filter((action) => !action.startsWith('xray:') && !action.startsWith('logs:'))
      .sort();
    expect(actions).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'states:DescribeExecution',
      'states:StartExecution',
    ]);
  });
});
