// The local runner: executes the synthesized ASL definition — never a hand-written copy — with
// aws-local-stepfunctions, every Task mapped to its local implementation, Retry pauses scaled by the time
// scale, and the interpreter's event log turned into progress callbacks and per-execution statistics.
import '#local/polyfills';
import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { executionArnOf } from '#adapters/workflow-starter';
import { type TaskResource, type TaskResourceDeps, taskResource } from '#local/task-resources';

export type { StateMachineDefinition };
/** One entry of the interpreter's execution event log (StateEntered, StateRetried, ExecutionFailed, …). */
export type ExecutionEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type JsonValue = Parameters<StateMachine['run']>[0];
type Retrier = {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'NONE' | 'FULL';
};
type TaskState = { Type: 'Task'; Resource: string; Retry?: Retrier[] };

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What one execution cost, counted the way AWS bills and meters it. */
export interface ExecutionStats {
  /** States entered plus retries — what Standard workflows bill as state transitions. */
  stateTransitions: number;
  /** Every Lambda invocation, retries included. */
  lambdaInvocations: number;
  lambdaInvocationsByFunction: Record<string, number>;
  /** Direct service integration calls by kind, e.g. `dynamodb:updateItem`. */
  serviceCalls: Record<string, number>;
  /** Retries taken by Retry rules. */
  retries: number;
  /** How often each state was entered. */
  statesEntered: Record<string, number>;
  durationMs: number;
}

/** Nothing counted yet: an execution before its first state, or one the interpreter never ran. */
export const emptyExecutionStats = (durationMs = 0): ExecutionStats => ({
  stateTransitions: 0,
  lambdaInvocations: 0,
  lambdaInvocationsByFunction: {},
  serviceCalls: {},
  retries: 0,
  statesEntered: {},
  durationMs,
});

export interface ExecutionOutcome {
  executionArn: string;
  name: string;
  status: ExecutionStatus;
  /** The execution's output when it SUCCEEDED. */
  output?: unknown;
  /** Error name and Cause when it FAILED, as DescribeExecution reports them. */
  error?: string;
  cause?: string;
  startDate: string;
  stopDate: string;
  stats: ExecutionStats;
}

export interface ExecuteOptions {
  /** The execution name (on AWS unique per state machine; here the job id). */
  name: string;
  /** Called for every event of the execution's log, in order. */
  onEvent?: (event: ExecutionEvent) => void;
  signal?: AbortSignal;
  /** Asked once the execution has ended: true sends no status-change event (a killed runner sends none). */
  silentEnd?: () => boolean;
}

/**
 * The "Step Functions Execution Status Change" event EventBridge carries when an execution ends (the
 * fields of its `detail` that AWS sets for an ended execution).
 */
export interface ExecutionStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: ExecutionStatus;
    /** Epoch milliseconds. */
    startDate: number;
    stopDate: number;
    /** JSON strings, as AWS sends them. */
    input: string;
    output: string | null;
    inputDetails: { included: true };
    outputDetails: { included: true } | null;
    error: string | null;
    cause: string | null;
  };
}

export interface LocalStateMachineOptions {
  definition: StateMachineDefinition;
  /** The state machine's name, for execution ARNs. */
  name: string;
  resources: TaskResourceDeps;
  /** Emulated seconds per real second: Retry pauses and fixed-seconds Waits shrink by this factor. */
  timeScale: number;
  region?: string;
  account?: string;
  /**
   * Told of every execution that ended, as EventBridge rules on AWS are (e.g. the ExecutionReconciler's).
   * Awaited before execute() resolves, so the job record already reflects it; a failure here does not
   * change the execution's outcome, as a failed delivery on AWS would not.
   */
  onStatusChange?: (event: ExecutionStatusChangeEvent) => Promise<unknown>;
}

export class LocalStateMachine {
  readonly #machine: StateMachine;
  readonly #options: LocalStateMachineOptions;
  readonly #tasks: Map<string, { state: TaskState; resource: TaskResource }>;
  readonly #waitOverrides: Record<string, number>;
  readonly #running = new Set<() => void>();

  constructor(options: LocalStateMachineOptions) {
    if (!(options.timeScale > 0))
      throw new RangeError(`timeScale must be positive, got ${options.timeScale}`);
    this.#options = options;
    this.#machine = new StateMachine(options.definition);
    // Every Task must have a local implementation before anything runs: fail at start-up, not mid-job.
    this.#tasks = new Map(
      [...allStates(options.definition)]
        .filter((entry): entry is [string, TaskState] => entry[1].Type === 'Task')
        .map(([name, state]) => [
          name,
          { state, resource: taskResource(name, state.Resource, options.resources) },
        ]),
    );
    this.#waitOverrides = Object.fromEntries(
      [...allStates(options.definition)]
        .filter(([, state]) => state.Type === 'Wait' && typeof state.Seconds === 'number')
        .map(([name, state]) => [name, (Number(state.Seconds) * 1000) / options.timeScale]),
    );
  }

  get stateMachineArn(): string {
    const { region = 'us-east-1', account = '123456789012', name } = this.#options;
    return `arn:aws:states:${region}:${account}:stateMachine:${name}`;
  }

  /** Lambda function names each Task state invokes, when the definition names them statically. */
  taskFunctions(): Record<string, string> {
    return Object.fromEntries(
      [...this.#tasks].flatMap(([name, { resource }]) =>
        resource.functionName ? [[name, resource.functionName]] : [],
      ),
    );
  }

  /** Aborts every running execution (their outcomes become ABORTED). */
  abortAll(): void {
    for (const abort of this.#running) abort();
  }

  async execute(input: unknown, options: ExecuteOptions): Promise<ExecutionOutcome> {
    const executionArn = executionArnOf(this.stateMachineArn, options.name);
    const started = Date.now();
    const stats = emptyExecutionStats();
    const pacer = new RetryPacer(this.#options.timeScale);

    const taskResourceLocalHandlers = Object.fromEntries(
      [...this.#tasks].map(([stateName, { state, resource }]) => [
        stateName,
        async (taskInput: JsonValue): Promise<JsonValue> => {
          pacer.starting(stateName);
          count(resource, taskInput, stats);
          try {
            const result = (await resource.run(taskInput)) as JsonValue;
            pacer.succeeded(stateName);
            return result;
          } catch (error) {
            pacer.failed(stateName, state.Retry ?? [], error);
            throw error;
          }
        },
      ]),
    );

    const runOptions: RunOptions = {
      overrides: {
        taskResourceLocalHandlers,
        waitTimeOverrides: this.#waitOverrides,
        ...(this.#options.timeScale === 1 ? {} : { retryIntervalOverrides: pacer.overrides(this.#tasks) }),
      },
      context: {
        Execution: { Id: executionArn, Name: options.name, StartTime: new Date(started).toISOString() },
        StateMachine: { Id: this.stateMachineArn, Name: this.#options.name },
        State: stateContext,
      },
    };
    const execution = this.#machine.run(input as JsonValue, runOptions);
    this.#running.add(execution.abort);
    const onAbort = () => execution.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const consumed = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') {
          stats.stateTransitions += 1;
          stats.statesEntered[event.state.name] = (stats.statesEntered[event.state.name] ?? 0) + 1;
        } else if (event.type === 'StateRetried') {
          stats.stateTransitions += 1;
          stats.retries += 1;
        }
        options.onEvent?.(event);
      }
    })();

    let outcome: Pick<ExecutionOutcome, 'status' | 'output' | 'error' | 'cause'>;
    try {
      outcome = { status: 'SUCCEEDED', output: await execution.result };
    } catch (error) {
      outcome = failureOutcome(error);
    } finally {
      this.#running.delete(execution.abort);
      options.signal?.removeEventListener('abort', onAbort);
    }
    await consumed;
    stats.durationMs = Date.now() - started;
    const ended: ExecutionOutcome = {
      executionArn,
      name: options.name,
      ...outcome,
      startDate: new Date(started).toISOString(),
      stopDate: new Date().toISOString(),
      stats,
    };
    if (options.silentEnd?.() !== true) {
      await this.#options.onStatusChange?.(this.#statusChangeEvent(ended, input)).catch(() => undefined);
    }
    return ended;
  }

  #statusChangeEvent(ended: ExecutionOutcome, input: unknown): ExecutionStatusChangeEvent {
    const { region = 'us-east-1', account = '123456789012' } = this.#options;
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account,
      time: ended.stopDate.replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [ended.executionArn],
      detail: {
        executionArn: ended.executionArn,
        stateMachineArn: this.stateMachineArn,
        name: ended.name,
        status: ended.status,
        startDate: Date.parse(ended.startDate),
        stopDate: Date.parse(ended.stopDate),
        input: JSON.stringify(input ?? {}),
        output: ended.status === 'SUCCEEDED' ? JSON.stringify(ended.output ?? null) : null,
        inputDetails: { included: true },
        outputDetails: ended.status === 'SUCCEEDED' ? { included: true } : null,
        error: ended.error ?? null,
        cause: ended.cause ?? null,
      },
    };
  }
}

/**
 * `$$.State`: the interpreter keeps one context object per execution and has no State entry. Parameters
 * are evaluated the moment a state is entered, so "now" is its EnteredTime (a retry re-evaluates them,
 * where AWS keeps the first entry's time). The state's name is not knowable here: a definition that
 * reads `$$.State.Name` fails loudly with "does not point to a value".
 */
const stateContext = Object.freeze({
  get EnteredTime(): string {
    return new Date().toISOString();
  },
  RetryCount: 0,
});

const count = (resource: TaskResource, input: JsonValue, stats: ExecutionStats): void => {
  if (resource.kind !== 'lambda') {
    stats.serviceCalls[resource.kind] = (stats.serviceCalls[resource.kind] ?? 0) + 1;
    return;
  }
  const fromInput =
    typeof input === 'object' && input !== null && !Array.isArray(input) ? input.FunctionName : undefined;
  const name =
    resource.functionName ?? (typeof fromInput === 'string' ? fromInput.split(':').at(-1) : undefined);
  stats.lambdaInvocations += 1;
  if (name) stats.lambdaInvocationsByFunction[name] = (stats.lambdaInvocationsByFunction[name] ?? 0) + 1;
};

const failureOutcome = (error: unknown): Pick<ExecutionOutcome, 'status' | 'error' | 'cause'> => {
  if (error instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution ran past its TimeoutSeconds',
    };
  }
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  const failure = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  if (failure instanceof Error) return { status: 'FAILED', error: failure.name, cause: failure.message };
  return { status: 'FAILED', error: 'Error', cause: String(failure) };
};

/** Every state of the definition, including those inside Map iterators and Parallel branches. */
function* allStates(definition: {
  States: Record<string, unknown>;
}): Generator<[string, { Type?: string; Seconds?: unknown; Resource: string; Retry?: Retrier[] }]> {
  for (const [name, raw] of Object.entries(definition.States)) {
    const state = raw as {
      Type?: string;
      Resource: string;
      Iterator?: { States: Record<string, unknown> };
      ItemProcessor?: { States: Record<string, unknown> };
      Branches?: { States: Record<string, unknown> }[];
    };
    yield [name, state];
    for (const nested of [state.Iterator, state.ItemProcessor, ...(state.Branches ?? [])]) {
      if (nested) yield* allStates(nested);
    }
  }
}

/**
 * Scales Retry pauses by the time scale while keeping each retrier's IntervalSeconds × BackoffRate^n,
 * MaxDelaySeconds and jitter. The interpreter only takes fixed per-retrier overrides, read when it decides
 * to retry, so the overrides are getters computed from the failures seen since the state last started
 * afresh (a success, or another Task running in between, starts it afresh — as re-entering does on AWS).
 */
class RetryPacer {
  readonly #timeScale: number;
  readonly #failures = new Map<string, number[]>();
  #lastTask: string | undefined;

  constructor(timeScale: number) {
    this.#timeScale = timeScale;
  }

  starting(stateName: string): void {
    if (this.#lastTask !== stateName) this.#failures.delete(stateName);
    this.#lastTask = stateName;
  }

  succeeded(stateName: string): void {
    this.#failures.delete(stateName);
  }

  failed(stateName: string, retriers: readonly Retrier[], error: unknown): void {
    const name = error instanceof Error ? error.name : 'Error';
    const index = retriers.findIndex((retrier) =>
      retrier.ErrorEquals.some(
        (e) => e === name || e === 'States.ALL' || (e === 'States.TaskFailed' && name !== 'States.Timeout'),
      ),
    );
    if (index < 0) return;
    const failures = this.#failures.get(stateName) ?? retriers.map(() => 0);
    failures[index] = (failures[index] ?? 0) + 1;
    this.#failures.set(stateName, failures);
  }

  overrides(tasks: ReadonlyMap<string, { state: TaskState }>): Record<string, number[]> {
    const overrides: Record<string, number[]> = {};
    for (const [stateName, { state }] of tasks) {
      const retriers = state.Retry;
      if (!retriers || retriers.length === 0) continue;
      Object.defineProperty(overrides, stateName, {
        enumerable: true,
        get: () =>
          retriers.map((retrier, index) =>
            this.#pauseMs(retrier, this.#failures.get(stateName)?.[index] ?? 1),
          ),
      });
    }
    return overrides;
  }

  #pauseMs(retrier: Retrier, failures: number): number {
    const seconds = Math.min(
      (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** Math.max(0, failures - 1),
      retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY,
    );
    const ms = (seconds * 1000) / this.#timeScale;
    return retrier.JitterStrategy === 'FULL' ? Math.random() * ms : ms;
  }
}
