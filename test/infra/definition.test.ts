// definitionFromTemplate: from a CloudFormation state machine back to plain ASL, with caller-supplied
// values for ARNs and names — what the tests and the local runner both depend on.
import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  DefinitionResolutionError,
  definitionFromTemplate,
  lambdaFunctionOf,
  resolveIntrinsics,
} from '#infra/definition';

const template = (definitionString: unknown, extra: CfnTemplate['Resources'] = {}): CfnTemplate => ({
  Resources: {
    Work: { Type: 'AWS::Lambda::Function', Properties: {} },
    Jobs: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: definitionString } },
    ...extra,
  },
});

// The shape CDK emits: a JSON text cut where tokens go.
const cdkStyle = {
  'Fn::Join': [
    '',
    [
      '{"StartAt":"Work","States":{"Work":{"Type":"Task","End":true,"Resource":"',
      { 'Fn::GetAtt': ['Work', 'Arn'] },
      '","Parameters":{"TableName":"',
      { Ref: 'Jobs' },
      '","Bus":"arn:',
      { Ref: 'AWS::Partition' },
      ':events:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':event-bus/default"}}}}',
    ],
  ],
};

describe('definitionFromTemplate', () => {
  it('resolves a CDK-style Fn::Join definition with default fake values', () => {
    const definition = definitionFromTemplate(template(cdkStyle));
    expect(definition).toEqual({
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          End: true,
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:Work',
          Parameters: { TableName: 'Jobs', Bus: 'arn:aws:events:us-east-1:123456789012:event-bus/default' },
        },
      },
    });
  });

  it('uses the caller’s resolvers and pseudo parameters first', () => {
    const definition = definitionFromTemplate(template(cdkStyle), {
      resolveGetAtt: (id, attribute, resource) => `local:${resource?.Type}:${id}.${attribute}`,
      resolveRef: (id) => (id === 'Jobs' ? 'jobs-local' : undefined),
      pseudo: { region: 'local-1', accountId: '000000000000' },
    });
    expect(definition.States.Work).toMatchObject({
      Resource: 'local:AWS::Lambda::Function:Work.Arn',
      Parameters: { TableName: 'jobs-local', Bus: 'arn:aws:events:local-1:000000000000:event-bus/default' },
    });
  });

  it('applies DefinitionSubstitutions, escaped as JSON', () => {
    const t: CfnTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString:
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
              '{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"${quoted}","End":true}}}',
            DefinitionSubstitutions: { quoted: 'say "hi"' },
          },
        },
      },
    };
    expect(definitionFromTemplate(t).States.A).toEqual({ Type: 'Pass', Result: 'say "hi"', End: true });
  });

  it('needs the logical id when there are several state machines, and rejects unknown ones', () => {
    const two = template(cdkStyle, {
      Other: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { DefinitionString: '{"StartAt":"X","States":{}}' },
      },
    });
    expect(() => definitionFromTemplate(two)).toThrow(/several state machines \(Machine, Other\)/);
    expect(definitionFromTemplate(two, { stateMachineLogicalId: 'Other' }).StartAt).toBe('X');
    expect(() => definitionFromTemplate(two, { stateMachineLogicalId: 'Jobs' })).toThrow(
      DefinitionResolutionError,
    );
    expect(() => definitionFromTemplate({ Resources: {} })).toThrow(/no AWS::StepFunctions::StateMachine/);
  });
});

describe('resolveIntrinsics', () => {
  const t = template('{}');

  it('resolves Fn::Sub with pseudo parameters, attributes and its own variables', () => {
    expect(
      resolveIntrinsics(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
        { 'Fn::Sub': ['${AWS::Region}/${Work.Arn}/${x}/${Jobs}', { x: { Ref: 'AWS::AccountId' } }] },
        t,
      ),
    ).toBe('us-east-1/arn:aws:lambda:us-east-1:123456789012:function:Work/123456789012/Jobs');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
    expect(resolveIntrinsics({ 'Fn::Sub': 'cdk-${AWS::AccountId}-${AWS::Region}' }, t)).toBe(
      'cdk-123456789012-us-east-1',
    );
  });

  it('resolves Fn::Select over Fn::Split, and the string form of Fn::GetAtt', () => {
    expect(
      resolveIntrinsics({ 'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::GetAtt': 'Work.Arn' }] }] }, t),
    ).toBe('Work');
  });

  it('walks objects and arrays, leaving plain values alone', () => {
    expect(resolveIntrinsics({ a: [1, true, null, { Ref: 'Jobs' }], b: 'x' }, t)).toEqual({
      a: [1, true, null, 'Jobs'],
      b: 'x',
    });
  });

  it('refuses intrinsics it does not know rather than guessing', () => {
    expect(() => resolveIntrinsics({ 'Fn::ImportValue': 'Shared' }, t)).toThrow(
      /Unsupported intrinsic function Fn::ImportValue/,
    );
    expect(() => resolveIntrinsics({ 'Fn::Join': ['', [{ 'Fn::Split': [',', 'a,b'] }]] }, t)).toThrow(
      DefinitionResolutionError,
    );
  });
});

describe('lambdaFunctionOf', () => {
  it('finds the function of a plain-ARN Task and of an optimised lambda:invoke Task', () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:Work';
    expect(lambdaFunctionOf({ Type: 'Task', Resource: arn })).toBe(arn);
    expect(
      lambdaFunctionOf({
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: arn },
      }),
    ).toBe(arn);
  });

  it('says nothing for other integrations and other state types', () => {
    expect(
      lambdaFunctionOf({ Type: 'Task', Resource: 'arn:aws:states:::dynamodb:updateItem' }),
    ).toBeUndefined();
    expect(lambdaFunctionOf({ Type: 'Pass' })).toBeUndefined();
  });
});
