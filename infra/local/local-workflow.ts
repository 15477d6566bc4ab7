// The VideoWorkflow port on the local stack: StartExecution and StopExecution as Step Functions answers
// them, over the synthesized state machine run by the local interpreter. Executions run in the background,
// any number at once; each is named after its job, and a name is never run twice (in this process).
import { executionArnOf } from '#adapters/workflow-starter';
import type { VideoWorkflow } from '#domain/start-job';
import type { ExecutionState, WorkflowExecutions } from '#domain/sweep-jobs';
import type { VideoJobInput } from '#domain/video-job';
import {
  type ExecutionEvent,
  type ExecutionOutcome,
  type ExecutionStatus,
  emptyExecutionStats,
  type LocalStateMachine,
} from '#local/state-machine';

export type LocalExecutionStatus = 'RUNNING' | ExecutionStatus;

/** One execution, as DescribeExecution would show it. */
export interface LocalExecution {
  readonly name: string;
  readonly input: VideoJobInput;
  readonly startDate: string;
  status: LocalExecutionStatus;
  /** What StopExecution was told, once it was stopped. */
  stopReason?: { error: string; cause: string };
  /** Settles (never rejects) when the execution has ended, however it ended. */
  readonly outcome: Promise<ExecutionOutcome>;
}

/** Follows every execution (e.g. `npm run dev` printing each job as it ends). */
export interface ExecutionListener {
  /** Every event of every execution's log, as it happens. */
  onEvent?: (execution: string, event: ExecutionEvent) => void;
  /** Once per execution, when it has ended. */
  onEnded?: (outcome: ExecutionOutcome) => void;
}

export class LocalVideoWorkflow implements VideoWorkflow, WorkflowExecutions {
  readonly #stateMachine: LocalStateMachine;
  readonly #listeners = new Set<ExecutionListener>();
  readonly #executions = new Map<string, LocalExecution>();
  readonly #aborts = new Map<string, AbortController>();
  /** Executions ended by kill(): their end is not reported, as a dead process reports nothing. */
  readonly #killed = new Set<string>();

  constructor(stateMachine: LocalStateMachine) {
    this.#stateMachine = stateMachine;
  }

  /** Adds a listener; the returned function removes it. */
  watch(listener: ExecutionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(call: (listener: ExecutionListener) => void): void {
    for (const listener of this.#listeners) {
      try {
        call(listener);
      } catch {
        // A listener's failure is not the execution's.
      }
    }
  }

  /** Starts the execution named after the job and returns at once; it runs in the background. */
  async start(
    input: VideoJobInput,
    options: { executionName?: string } = {},
  ): Promise<'started' | 'already-started'> {
    const name = options.executionName ?? input.jobId;
    // Step Functions keeps execution names for 90 days: a name is never run twice.
    if (this.#executions.has(name)) return 'already-started';
    const abort = new AbortController();
    const startDate = new Date().toISOString();
    const execution: LocalExecution = {
      name,
      input,
      startDate,
      status: 'RUNNING',
      outcome: this.#stateMachine
        .execute(input, {
          name,
          signal: abort.signal,
          silentEnd: () => this.#killed.has(name),
          onEvent: (event) => this.#notify((listener) => listener.onEvent?.(name, event)),
        })
        .catch((error: unknown) => crashed(this.#stateMachine.stateMachineArn, name, startDate, error))
        .then((ended) => {
          this.#aborts.delete(name);
          // A stopped execution is ABORTED from the moment StopExecution answered, as on AWS.
          if (execution.status === 'RUNNING') execution.status = ended.status;
          this.#notify((listener) => listener.onEnded?.(ended));
          return ended;
        }),
    };
    this.#executions.set(name, execution);
    this.#aborts.set(name, abort);
    return 'started';
  }

  /** Aborts the running execution of that job: it stops at once and runs no further state. */
  async stop(jobId: string, reason: { error: string; cause: string }): Promise<'stopped' | 'not-running'> {
    const execution = this.#executions.get(jobId);
    const abort = this.#aborts.get(jobId);
    if (execution === undefined || abort === undefined || execution.status !== 'RUNNING') {
      return 'not-running';
    }
    execution.status = 'ABORTED';
    execution.stopReason = { ...reason };
    abort.abort();
    return 'stopped';
  }

  /** As DescribeExecution answers, for executions started in this process; MISSING for any other. */
  async state(executionName: string): Promise<ExecutionState> {
    return this.#executions.get(executionName)?.status ?? 'MISSING';
  }

  /**
   * Ends a running execution as a crash of the process would: at once, with no further state, no Catch and
   * no status-change event — the job record stays as the last state left it. For tests and demos of the
   * sweeper; a real stop is stop().
   */
  kill(executionName: string): boolean {
    const execution = this.#executions.get(executionName);
    const abort = this.#aborts.get(executionName);
    if (execution === undefined || abort === undefined || execution.status !== 'RUNNING') return false;
    execution.status = 'FAILED';
    execution.stopReason = { error: 'ProcessKilled', cause: 'The local runner was killed mid-job' };
    this.#killed.add(executionName);
    abort.abort();
    return true;
  }

  /** The execution of that job, if one was started in this process. */
  describe(jobId: string): LocalExecution | undefined {
    return this.#executions.get(jobId);
  }

  /** Every execution started in this process, oldest first. */
  list(): LocalExecution[] {
    return [...this.#executions.values()];
  }

  /** How many executions are running now. */
  get running(): number {
    return this.#aborts.size;
  }

  /** Resolves once no execution is running (those started meanwhile included). */
  async idle(): Promise<void> {
    while (this.#aborts.size > 0) {
      await Promise.all([...this.#executions.values()].map((execution) => execution.outcome));
    }
  }

  /** Aborts every running execution and waits for them to end (shutdown). */
  async stopAll(
    reason = { error: 'LocalStackStopped', cause: 'The local stack is shutting down' },
  ): Promise<void> {
    await Promise.all([...this.#aborts.keys()].map((name) => this.stop(name, reason)));
    await this.idle();
  }
}

/** The interpreter itself threw (not a state failing): report it as the execution failing. */
const crashed = (
  stateMachineArn: string,
  name: string,
  startDate: string,
  error: unknown,
): ExecutionOutcome => ({
  executionArn: executionArnOf(stateMachineArn, name),
  name,
  status: 'FAILED',
  error: error instanceof Error ? error.name : 'Error',
  cause: error instanceof Error ? error.message : String(error),
  startDate,
  stopDate: new Date().toISOString(),
  stats: emptyExecutionStats(Date.now() - Date.parse(startDate)),
});
