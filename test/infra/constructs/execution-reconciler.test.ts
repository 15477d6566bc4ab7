// The execution reconciler as synthesized in the real app: the rule hears only the VideoJob state machine's
// executions that stopped badly, the function may touch only job items, and no event is ever dropped.
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECONCILED_EXECUTION_STATUSES } from '#domain/reconcile-execution';
import { handlerEntry } from '#infra/constructs/handlers';
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

const ids = () => {
  const { reconciler, workflow, storage } = app.stack;
  return {
    fn: logicalIdOf(app, reconciler.function),
    queue: logicalIdOf(app, reconciler.deadLetterQueue),
    rule: logicalIdOf(app, reconciler.rule),
    stateMachine: logicalIdOf(app, workflow.stateMachine),
    jobs: logicalIdOf(app, storage.jobs),
  };
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** Every statement of the inline policies attached to a role. */
const roleStatements = (roleId: string): Statement[] =>
  Object.values(app.json.Resources ?? {})
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((resource) =>
      ((resource.Properties?.Roles as { Ref?: string }[] | undefined) ?? []).some((r) => r.Ref === roleId),
    )
    .flatMap(
      (resource) =>
        (resource.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
    );

describe('the rule', () => {
  it('matches the VideoJob executions that ended FAILED, TIMED_OUT or ABORTED, nothing else', () => {
    const { rule, stateMachine } = ids();
    expect(propertiesOf(app.json, rule)).toMatchObject({
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: stateMachine }],
        },
      },
    });
    // A successful execution always ends its job; reconciling it would only cost invocations.
    expect(RECONCILED_EXECUTION_STATUSES).not.toContain('SUCCEEDED');
    // The default bus: Step Functions publishes its status changes nowhere else.
    expect(propertiesOf(app.json, rule).EventBusName).toBeUndefined();
  });

  it('targets the reconcile function, retrying delivery for a day and keeping undeliverable events', () => {
    const { rule, fn, queue } = ids();
    const targets = propertiesOf(app.json, rule).Targets as Record<string, unknown>[];
    expect(targets).toHaveLength(1);
    const [target] = targets;
    expect(getAttTarget(target?.Arn)).toBe(fn);
    expect(getAttTarget((target?.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn)).toBe(queue);
    expect(target?.RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 24 * 60 * 60,
      MaximumRetryAttempts: expect.any(Number),
    });
  });

  it('may invoke the function, and only this rule may', () => {
    const { rule, fn } = ids();
    app.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
    });
  });
});

describe('the reconcile function', () => {
  it('is a house function running functions/reconcile-execution.ts against the jobs table', () => {
    const { fn, jobs } = ids();
    expect(app.stack.reconciler.function.entry).toBe(handlerEntry('reconcile-execution'));
    expect(propertiesOf(app.json, fn)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { JOBS_TABLE_NAME: { Ref: jobs } } },
    });
  });

  it("sends events it keeps failing on (after Lambda's own retries) to the dead-letter queue", () => {
    const { fn, queue } = ids();
    expect(
      getAttTarget((propertiesOf(app.json, fn).DeadLetterConfig as { TargetArn?: unknown }).TargetArn),
    ).toBe(queue);
  });

  it('may read and update job items, send to its queue, and nothing more (least privilege)', () => {
    const { fn, jobs, queue } = ids();
    const roleId = getAttTarget(propertiesOf(app.json, fn).Role);
    const statements = roleStatements(roleId);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);

    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(actionsOf(dynamo[0] as Statement).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    // The table itself: no index, no wildcard.
    expect(getAttTarget(dynamo[0]?.Resource)).toBe(jobs);

    const sqs = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(sqs.map(actionsOf)).toEqual([['sqs:SendMessage']]);
    expect(getAttTarget(sqs[0]?.Resource)).toBe(queue);

    // "*" only where AWS allows nothing narrower (X-Ray).
    const anywhere = statements.filter((s) => s.Resource === '*').flatMap(actionsOf);
    expect(anywhere.every((action) => action.startsWith('xray:'))).toBe(true);
    expect(statements.flatMap(actionsOf).filter((a) => a.endsWith(':*'))).toEqual([]);
  });
});

describe('the dead-letter queue', () => {
  it('is encrypted, keeps events two weeks, and accepts only TLS', () => {
    const { queue } = ids();
    expect(propertiesOf(app.json, queue)).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 60 * 60,
    });
    app.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('takes messages from EventBridge only on behalf of this rule', () => {
    const { queue, rule } = ids();
    app.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [rule, 'Arn'] } } },
          }),
        ]),
      },
    });
  });
});
