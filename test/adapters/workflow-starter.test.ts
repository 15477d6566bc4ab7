import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { executionArnOf, parseStateMachineArn, StepFunctionsWorkflow } from '#adapters/workflow-starter';
import { ConfigError } from '#commons/config';
import { DEFAULT_REQUEST } from '#test/support/workflow-fakes';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:VideoJob';
const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

const workflow = () => new StepFunctionsWorkflow(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

describe('StepFunctionsWorkflow', () => {
  it('starts an execution named after the job, with the job as its input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });

    expect(await workflow().start({ jobId: 'job-1', request: DEFAULT_REQUEST })).toBe('started');

    const [call] = sfn.commandCalls(StartExecutionCommand);
    expect(call?.args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE,
      name: 'job-1',
      input: JSON.stringify({ jobId: 'job-1', request: DEFAULT_REQUEST }),
    });
  });

  it('treats ExecutionAlreadyExists as a start that already happened', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await workflow().start({ jobId: 'job-1', request: DEFAULT_REQUEST })).toBe('already-started');
  });

  it('passes any other failure on', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(workflow().start({ jobId: 'job-1', request: DEFAULT_REQUEST })).rejects.toThrow('denied');
  });

  it('stops the execution of a job by its derived ARN, with the reason', async () => {
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });

    expect(await workflow().stop('job-1', { error: 'JobCancelledError', cause: 'by the API' })).toBe(
      'stopped',
    );

    expect(sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:VideoJob:job-1',
      error: 'JobCancelledError',
      cause: 'by the API',
    });
  });

  it('reports a job whose execution never started as not running', async () => {
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'none', $metadata: {} }));
    expect(await workflow().stop('job-1', { error: 'E', cause: 'c' })).toBe('not-running');
  });
});

describe('state machine configuration', () => {
  it('derives execution ARNs from the state machine ARN', () => {
    expect(executionArnOf('arn:aws-cn:states:cn-north-1:123456789012:stateMachine:Jobs', 'a')).toBe(
      'arn:aws-cn:states:cn-north-1:123456789012:execution:Jobs:a',
    );
  });

  it('fails at start-up on a missing or malformed STATE_MACHINE_ARN, naming it', () => {
    expect(() => parseStateMachineArn({})).toThrow(/STATE_MACHINE_ARN/);
    expect(() => parseStateMachineArn({ STATE_MACHINE_ARN: 'arn:aws:lambda:x' })).toThrow(ConfigError);
    expect(parseStateMachineArn({ STATE_MACHINE_ARN: ` ${STATE_MACHINE} ` })).toBe(STATE_MACHINE);
  });
});
