// Starts and stops VideoJob executions in Step Functions. The execution name is the job id: a Standard
// workflow refuses a second execution of the same name (ExecutionAlreadyExists), which is what makes a
// repeated start harmless.
import {
  DescribeExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfnClient } from '#commons/aws-clients';
import { ConfigError } from '#commons/config';
import { ENV } from '#commons/env';
import type { VideoWorkflow } from '#domain/start-job';
import type { ExecutionState, WorkflowExecutions } from '#domain/sweep-jobs';
import type { VideoJobInput } from '#domain/video-job';

const STATE_MACHINE_ARN = /^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

/** Checks STATE_MACHINE_ARN once, so a wrong value fails at start-up rather than on the first request. */
export const parseStateMachineArn = (env: Readonly<Record<string, string | undefined>>): string => {
  const arn = env[ENV.stateMachineArn]?.trim();
  if (!arn) {
    throw new ConfigError(`Missing environment variable ${ENV.stateMachineArn} (the VideoJob state machine)`);
  }
  if (!STATE_MACHINE_ARN.test(arn)) {
    throw new ConfigError(`${ENV.stateMachineArn} is not a state machine ARN: ${arn}`);
  }
  return arn;
};

/** `arn:…:stateMachine:<name>` → `arn:…:execution:<name>:<jobId>`, the ARN Step Functions gives the execution. */
export const executionArnOf = (stateMachineArn: string, jobId: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${jobId}`;

const isNamed = (error: unknown, name: string): boolean => error instanceof Error && error.name === name;

export class StepFunctionsWorkflow implements VideoWorkflow, WorkflowExecutions {
  readonly #client: SFNClient;
  readonly #stateMachineArn: string;

  constructor(client: SFNClient, stateMachineArn: string) {
    this.#client = client;
    this.#stateMachineArn = stateMachineArn;
  }

  async start(
    input: VideoJobInput,
    options: { executionName?: string } = {},
  ): Promise<'started' | 'already-started'> {
    try {
      await this.#client.send(
        new StartExecutionCommand({
          stateMachineArn: this.#stateMachineArn,
          name: options.executionName ?? input.jobId,
          input: JSON.stringify(input),
        }),
      );
      // Also the answer when the same name with the same input is still running: Step Functions then
      // returns the existing execution instead of an error. Either way exactly one execution runs.
      return 'started';
    } catch (error) {
      if (isNamed(error, 'ExecutionAlreadyExists')) return 'already-started';
      throw error;
    }
  }

  /** DescribeExecution's status, or MISSING when no execution of that name exists. */
  async state(executionName: string): Promise<ExecutionState> {
    try {
      const { status } = await this.#client.send(
        new DescribeExecutionCommand({ executionArn: executionArnOf(this.#stateMachineArn, executionName) }),
      );
      // PENDING_REDRIVE: a redrive is about to run it again, which counts as running.
      return status === undefined || status === 'PENDING_REDRIVE' ? 'RUNNING' : status;
    } catch (error) {
      if (isNamed(error, 'ExecutionDoesNotExist')) return 'MISSING';
      throw error;
    }
  }

  async stop(jobId: string, reason: { error: string; cause: string }): Promise<'stopped' | 'not-running'> {
    try {
      await this.#client.send(
        new StopExecutionCommand({
          executionArn: executionArnOf(this.#stateMachineArn, jobId),
          error: reason.error,
          cause: reason.cause,
        }),
      );
      return 'stopped';
    } catch (error) {
      if (isNamed(error, 'ExecutionDoesNotExist')) return 'not-running';
      throw error;
    }
  }
}

export interface VideoWorkflowOptions {
  client?: SFNClient;
  stateMachineArn?: string;
}

/** The workflow the Lambdas use: the shared per-container client and the ARN from STATE_MACHINE_ARN. */
export const createVideoWorkflow = (options: VideoWorkflowOptions = {}): StepFunctionsWorkflow =>
  new StepFunctionsWorkflow(
    options.client ?? sfnClient(),
    options.stateMachineArn ?? parseStateMachineArn(process.env),
  );
