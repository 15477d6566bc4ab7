// The local runner tells of every ended execution with the event EventBridge carries on AWS ("Step
// Functions Execution Status Change"), so that rules such as the execution reconciler run locally too.
import { describe, expect, it } from 'vitest';
import {
  type ExecutionStatusChangeEvent,
  LocalStateMachine,
  type StateMachineDefinition,
} from '#local/state-machine';
import type { TaskResourceDeps } from '#local/task-resources';

// These definitions have no Task: the runner never reaches for a resource.
const NO_RESOURCES = {} as TaskResourceDeps;

const machine = (definition: unknown, heard: ExecutionStatusChangeEvent[], fail = false) =>
  new LocalStateMachine({
    definition: definition as StateMachineDefinition,
    name: 'VideoJob',
    resources: NO_RESOURCES,
    timeScale: 1,
    region: 'eu-west-1',
    account: '111122223333',
    onStatusChange: async (event) => {
      heard.push(event);
      if (fail) throw new Error('the rule target is down');
    },
  });

describe('LocalStateMachine status-change events', () => {
  it('tells of a failed execution with its error and cause, in the shape EventBridge delivers', async () => {
    const heard: ExecutionStatusChangeEvent[] = [];
    const definition = {
      StartAt: 'Boom',
      States: { Boom: { Type: 'Fail', Error: 'VideoIntegrityError', Cause: 'bad bytes' } },
    };
    const outcome = await machine(definition, heard).execute({ jobId: 'job-1' }, { name: 'job-1' });

    expect(heard).toHaveLength(1);
    expect(heard[0]).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '111122223333',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'eu-west-1',
      resources: [outcome.executionArn],
      detail: {
        executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:VideoJob:job-1',
        stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:VideoJob',
        name: 'job-1',
        status: 'FAILED',
        startDate: Date.parse(outcome.startDate),
        stopDate: Date.parse(outcome.stopDate),
        input: JSON.stringify({ jobId: 'job-1' }),
        output: null,
        inputDetails: { included: true },
        outputDetails: null,
        error: 'VideoIntegrityError',
        cause: 'bad bytes',
      },
    });
  });

  it('tells of an aborted execution (a stop through its signal)', async () => {
    const heard: ExecutionStatusChangeEvent[] = [];
    const definition = { StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 600, End: true } } };
    const stop = new AbortController();
    const running = machine(definition, heard).execute(
      { jobId: 'job-2' },
      { name: 'job-2', signal: stop.signal },
    );
    stop.abort();
    expect((await running).status).toBe('ABORTED');
    expect(heard.map((event) => event.detail)).toEqual([
      expect.objectContaining({ name: 'job-2', status: 'ABORTED', error: null, cause: null }),
    ]);
  });

  it('tells of a successful execution too, with its output, as AWS does (rules filter by status)', async () => {
    const heard: ExecutionStatusChangeEvent[] = [];
    const definition = {
      StartAt: 'Done',
      States: { Done: { Type: 'Pass', Result: { ok: true }, End: true } },
    };
    await machine(definition, heard).execute({}, { name: 'job-3' });
    expect(heard.map((event) => event.detail)).toEqual([
      expect.objectContaining({
        status: 'SUCCEEDED',
        output: '{"ok":true}',
        outputDetails: { included: true },
      }),
    ]);
  });

  it("keeps the execution's outcome when the listener fails, as a failed delivery would on AWS", async () => {
    const heard: ExecutionStatusChangeEvent[] = [];
    const definition = { StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'E', Cause: 'c' } } };
    const outcome = await machine(definition, heard, true).execute({}, { name: 'job-4' });
    expect(heard).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'E', cause: 'c' });
  });
});
