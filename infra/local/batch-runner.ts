// Runs a batch on the local stack: the synthesized batch state machine — PrepareBatch, the Distributed
// Map, SummarizeBatch — on the local interpreter, each child a real execution of the synthesized VideoJob
// state machine. Never a hand-written copy of either. Two things the interpreter cannot do are mapped here
// to equivalents with the same inputs and outputs:
// - the Distributed Map's S3 ItemReader (the interpreter ignores it and maps over the state input): a Task
//   inserted just before the Map reads the same object from local S3, with the same Parameters, and the
//   Map iterates what it read — same items, same ItemSelector, same MaxConcurrency, same child names;
// - `states:startExecution.sync:2`: the child runs on the stack's VideoJob workflow (one registry of
//   execution names for the whole process, as on AWS: a name never runs twice; the same name and input
//   while running joins that execution), and the task ends with DescribeExecution's shape, or fails with
//   States.TaskFailed / StepFunctions.ExecutionAlreadyExistsException as Step Functions does.
import '#local/polyfills';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { createBatchStore } from '#adapters/batch-store';
import { BATCH_ID_PATTERN, batchFileKeys, type S3Location } from '#domain/batch-manifest';
import type { BatchRecord, PreparedBatch } from '#domain/batch-run';
import type { BatchSummary } from '#domain/batch-summary';
import { isTerminal, type JobStatus, type VideoJobInput } from '#domain/video-job';
import { type Duration, type Resolution, videoRequestSchema } from '#domain/video-request';
import { BATCH_STATES } from '#infra/constructs/video-batch';
import {
  type AslDefinition,
  type AslState,
  definitionFromTemplate,
  type Json,
  stateMachineLogicalIds,
} from '#infra/definition';
import type { LocalStack } from '#local/stack';
import type { ExecutionOutcome, ExecutionStatus } from '#local/state-machine';
import { ServiceIntegrationError, taskResource } from '#local/task-resources';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '#local/template';

export interface LocalBatchOptions {
  /** A JSON Lines manifest on this machine; it is uploaded to local S3 under `manifests/`. */
  manifestPath?: string;
  /** The manifest's lines, when there is no file (one request per entry, no terminators). */
  lines?: readonly string[];
  /** Run (or run again) this batch. @default a new id, `local-<8 hex>` */
  batchId?: string;
  /**
   * Child executions in flight at once. @default the synthesized state machine's MaxConcurrency (sized to
   * Segmind's rate limit, see #domain/batch-concurrency)
   */
  concurrency?: number;
  /** Follows the batch as it runs. */
  onEvent?: (event: BatchRunEvent) => void;
  /** Aborts the batch and stops the children it started. */
  signal?: AbortSignal;
}

export type BatchRunEvent =
  | { type: 'prepared'; batch: PreparedBatch }
  | { type: 'line-started'; line: number; jobId: string; running: number }
  | {
      type: 'line-ended';
      line: number;
      jobId: string;
      /** The job record's status when its execution ended (or when it was found to exist already). */
      status: JobStatus | 'UNKNOWN';
      /** True when the child existed already (a rerun): nothing new ran for this line. */
      ranBefore: boolean;
      running: number;
      ended: number;
    }
  | { type: 'finished'; status: ExecutionStatus; summary?: BatchSummary };

export interface LocalBatchStats {
  /** MaxConcurrency of the Distributed Map as run. */
  maxConcurrency: number;
  /** Child executions this batch started. */
  childrenStarted: number;
  /** Lines whose child existed already (ExecutionAlreadyExists, or joined while running). */
  childrenExisting: number;
  /** Most child executions running at once. */
  maxRunningChildren: number;
  durationMs: number;
}

export interface LocalBatchRun {
  batchId: string;
  /** The batch execution's own outcome (FAILED when the batch input was unusable, or it ended INCOMPLETE). */
  status: ExecutionStatus;
  error?: string;
  cause?: string;
  manifest: S3Location;
  /** The summary SummarizeBatch wrote to local S3, when it ran. */
  summary?: BatchSummary;
  summaryLocation?: S3Location;
  /** The batch record, when PrepareBatch got as far as writing it. */
  record?: BatchRecord;
  stats: LocalBatchStats;
}

/** The Task states' resources that mean "start a child execution and wait for it". */
const START_EXECUTION_SYNC = /^arn:aws[\w-]*:states:::states:startExecution\.sync(:2)?$/;
const ITEM_READER = 'LocalItemReader';
/** Step Functions' error for a Map whose ItemReader could not read its items. */
const ITEM_READER_FAILED = 'States.ItemReaderFailed';

type MutableState = Record<string, Json | undefined> & { Type: string };
type States = Record<string, MutableState>;

/** The template's batch state machine — the one with a Distributed Map — and its local name. */
export const batchStateMachineOf = (
  stack: Pick<LocalStack, 'template'>,
): { name: string; definition: AslDefinition } => {
  for (const logicalId of stateMachineLogicalIds(stack.template)) {
    const definition = definitionFromTemplate(stack.template, { stateMachineLogicalId: logicalId });
    if (Object.values(definition.States).some(isDistributedMap)) return { name: logicalId, definition };
  }
  throw new Error('the synthesized app has no state machine with a Distributed Map (the batch workflow)');
};

/** The batch state machine's definition, as synthesized (plain ASL). */
export const batchDefinitionOf = (stack: Pick<LocalStack, 'template'>): AslDefinition =>
  batchStateMachineOf(stack).definition;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isDistributedMap = (state: AslState): boolean =>
  state.Type === 'Map' &&
  isRecord(state.ItemProcessor) &&
  isRecord(state.ItemProcessor.ProcessorConfig) &&
  state.ItemProcessor.ProcessorConfig.Mode === 'DISTRIBUTED';

/** The Task a Distributed Map's ItemReader becomes locally: `<Map>ItemReader`. */
export const itemReaderStateOf = (mapState: string): string => `${mapState}ItemReader`;

/**
 * The definition as the local interpreter runs it: every Distributed Map with an ItemReader gets a reader
 * Task in front of it (same Parameters; its failure goes where the Map's would), and iterates what that
 * Task read, kept in the context object so the state data stays as on AWS. Nothing else changes.
 */
export const localBatchDefinition = (definition: AslDefinition, options: { concurrency?: number } = {}) => {
  const copy = structuredClone(definition) as unknown as { StartAt: string; States: States };
  const readers: string[] = [];
  for (const [name, state] of Object.entries(copy.States)) {
    if (state.Type !== 'Map' || !isRecord(state.ItemReader)) continue;
    if (state.InputPath !== undefined || state.ItemsPath !== undefined) {
      throw new Error(`Map ${name}: an ItemReader with InputPath/ItemsPath is not mapped locally`);
    }
    const reader = itemReaderStateOf(name);
    const { Resource, Parameters, ReaderConfig } = state.ItemReader;
    copy.States[reader] = {
      Type: 'Task',
      Comment: `Local stand-in for the ItemReader of ${name}`,
      Resource: Resource as Json,
      Parameters: {
        ...(isRecord(Parameters) ? (Parameters as Record<string, Json>) : {}),
        ReaderConfig,
      } as Json,
      ResultPath: null,
      TimeoutSeconds: 300,
      ...(state.Catch === undefined ? {} : { Catch: state.Catch }),
      Next: name,
    };
    delete state.ItemReader;
    state.ItemsPath = `$$.${ITEM_READER}.${name}`;
    if (options.concurrency !== undefined) state.MaxConcurrency = options.concurrency;
    redirect(copy, name, reader);
    readers.push(name);
  }
  if (readers.length === 0) throw new Error('the definition has no Distributed Map with an ItemReader');
  return copy as unknown as StateMachineDefinition;
};

/** Points every transition into `from` (outside `from`'s own reader) at `to`. */
const redirect = (definition: { StartAt: string; States: States }, from: string, to: string): void => {
  if (definition.StartAt === from) definition.StartAt = to;
  for (const [name, state] of Object.entries(definition.States)) {
    if (name === to) continue;
    if (state.Next === from) state.Next = to;
    if (state.Default === from) state.Default = to;
    for (const list of [state.Choices, state.Catch]) {
      if (!Array.isArray(list)) continue;
      for (const rule of list) if (isRecord(rule) && rule.Next === from) rule.Next = to;
    }
  }
};

/** The Task states of a definition, nested ones (Map item processors) included. */
function* taskStates(states: Record<string, unknown>): Generator<[string, string]> {
  for (const [name, raw] of Object.entries(states)) {
    if (!isRecord(raw)) continue;
    if (raw.Type === 'Task' && typeof raw.Resource === 'string') yield [name, raw.Resource];
    for (const nested of [raw.ItemProcessor, raw.Iterator]) {
      if (isRecord(nested) && isRecord(nested.States)) yield* taskStates(nested.States);
    }
  }
}

/** The shapes (resolution, duration, audio) of a manifest's valid requests: for emulator.prepareVideos. */
export const requestShapes = (
  lines: readonly string[],
): { resolution: Resolution; duration: Duration; generateAudio: boolean }[] => {
  const shapes = new Map<string, { resolution: Resolution; duration: Duration; generateAudio: boolean }>();
  for (const line of lines) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = videoRequestSchema.safeParse(value);
    if (!parsed.success) continue;
    const { resolution, duration, generateAudio } = parsed.data;
    shapes.set(`${resolution}/${duration}/${generateAudio}`, { resolution, duration, generateAudio });
  }
  return [...shapes.values()];
};

const parseItems = (text: string, inputType: unknown, maxItems: unknown): unknown[] => {
  let items: unknown[];
  if (inputType === 'JSONL') {
    items = text
      .split('\n')
      .filter((row) => row.trim() !== '')
      .map((row) => JSON.parse(row) as unknown);
  } else if (inputType === 'JSON') {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error('the JSON file is not an array');
    items = parsed;
  } else {
    throw new Error(`ReaderConfig.InputType ${String(inputType)} is not mapped locally`);
  }
  return typeof maxItems === 'number' ? items.slice(0, maxItems) : items;
};

const lineNumberOf = (jobId: string): number => Number(jobId.slice(jobId.lastIndexOf('-') + 1));

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** DescribeExecution as `startExecution.sync:2` returns it: Input and Output as JSON, dates in epoch ms. */
const describeExecution = (stateMachineArn: string, input: unknown, outcome: ExecutionOutcome) => ({
  ExecutionArn: outcome.executionArn,
  Input: input,
  InputDetails: { Included: true },
  Name: outcome.name,
  ...(outcome.output === undefined ? {} : { Output: outcome.output, OutputDetails: { Included: true } }),
  StartDate: Date.parse(outcome.startDate),
  StateMachineArn: stateMachineArn,
  Status: outcome.status,
  StopDate: Date.parse(outcome.stopDate),
  ...(outcome.error === undefined ? {} : { Error: outcome.error }),
  ...(outcome.cause === undefined ? {} : { Cause: outcome.cause }),
});

const readJson = async <T>(stack: LocalStack, location: S3Location): Promise<T | undefined> => {
  try {
    const { Body } = await stack.s3.client.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
    );
    return Body ? (JSON.parse(await Body.transformToString('utf8')) as T) : undefined;
  } catch (error) {
    if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound')) return undefined;
    throw error;
  }
};

/**
 * Runs one batch on the local stack and resolves when it has ended, with the summary it wrote. Any number
 * of lines: the interpreter holds one small item per line, children run at most `concurrency` at once.
 */
export const runLocalBatch = async (
  stack: LocalStack,
  options: LocalBatchOptions,
): Promise<LocalBatchRun> => {
  const started = Date.now();
  const batchId = options.batchId ?? `local-${randomUUID().slice(0, 8)}`;
  if (!BATCH_ID_PATTERN.test(batchId)) {
    throw new RangeError(`batchId must be 1-64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(batchId)}`);
  }
  if (
    options.concurrency !== undefined &&
    !(Number.isInteger(options.concurrency) && options.concurrency >= 1)
  ) {
    throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  }
  const body =
    options.manifestPath !== undefined
      ? await readFile(options.manifestPath)
      : options.lines !== undefined
        ? options.lines.map((line) => `${line}\n`).join('')
        : undefined;
  if (body === undefined) throw new Error('runLocalBatch needs manifestPath or lines');

  const manifest: S3Location = { bucket: stack.s3.videosBucket, key: `manifests/${batchId}.jsonl` };
  await stack.s3.client.send(
    new PutObjectCommand({
      Bucket: manifest.bucket,
      Key: manifest.key,
      Body: body,
      ContentType: 'application/jsonl',
    }),
  );

  const batchMachine = batchStateMachineOf(stack);
  const definition = localBatchDefinition(
    batchMachine.definition,
    options.concurrency === undefined ? {} : { concurrency: options.concurrency },
  );
  const mapState = Object.values(definition.States).find((state) => state.Type === 'Map') as
    | { MaxConcurrency?: number }
    | undefined;
  const stats: LocalBatchStats = {
    maxConcurrency: mapState?.MaxConcurrency ?? 0,
    childrenStarted: 0,
    childrenExisting: 0,
    maxRunningChildren: 0,
    durationMs: 0,
  };
  const emit = (event: BatchRunEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's failure is not the batch's.
    }
  };

  const itemReaderSlots: Record<string, unknown[]> = {};
  let prepared: PreparedBatch | undefined;
  let summarized = false;
  const startedHere = new Set<string>();
  let running = 0;
  let ended = 0;
  const childArn = stack.stateMachine.stateMachineArn;

  /** ExecutionAlreadyExists, as the Step Functions integration names it. */
  const alreadyExists = (name: string) =>
    new ServiceIntegrationError(
      'StepFunctions.ExecutionAlreadyExistsException',
      `Execution Already Exists: '${childArn.replace(':stateMachine:', ':execution:')}:${name}' ` +
        '(Service: AWSStepFunctions; Status Code: 400; Error Code: ExecutionAlreadyExists)',
    );

  const lineEnded = async (name: string, ranBefore: boolean): Promise<void> => {
    ended += 1;
    const job = await stack.jobs.get(name).catch(() => undefined);
    emit({
      type: 'line-ended',
      line: lineNumberOf(name),
      jobId: name,
      status: job?.status ?? 'UNKNOWN',
      ranBefore,
      running,
      ended,
    });
  };

  /** Waits for the execution of that name, started by us or already running with the same input. */
  const follow = async (name: string, input: unknown, joined: boolean): Promise<unknown> => {
    const execution = stack.workflow.describe(name);
    if (execution === undefined) throw new Error(`execution ${name} vanished`);
    running += 1;
    stats.maxRunningChildren = Math.max(stats.maxRunningChildren, running);
    if (!joined) emit({ type: 'line-started', line: lineNumberOf(name), jobId: name, running });
    let outcome: ExecutionOutcome;
    try {
      outcome = await execution.outcome;
    } finally {
      running -= 1;
    }
    await lineEnded(name, joined);
    const described = describeExecution(childArn, input, outcome);
    if (outcome.status === 'SUCCEEDED') return described;
    throw new ServiceIntegrationError('States.TaskFailed', JSON.stringify(described));
  };

  const startChild = async (parameters: unknown): Promise<unknown> => {
    if (!isRecord(parameters) || typeof parameters.Name !== 'string') {
      throw new Error('startExecution.sync: Parameters need a Name (the job id)');
    }
    if (parameters.StateMachineArn !== childArn) {
      throw new Error(`startExecution.sync: no local state machine ${String(parameters.StateMachineArn)}`);
    }
    const name = parameters.Name;
    const input: unknown =
      typeof parameters.Input === 'string' ? JSON.parse(parameters.Input) : (parameters.Input ?? {});
    const existing = async (): Promise<unknown> => {
      stats.childrenExisting += 1;
      const execution = stack.workflow.describe(name);
      // Same name and input while it runs: StartExecution answers with that execution, .sync waits for it.
      if (execution?.status === 'RUNNING' && sameJson(execution.input, input))
        return follow(name, input, true);
      await lineEnded(name, true);
      throw alreadyExists(name);
    };
    if (stack.workflow.describe(name) !== undefined) return existing();
    // Executions do not outlive the process locally; a job record that has ended stands for the
    // execution an earlier run started (on AWS its name would still be taken).
    const record = await stack.jobs.get(name);
    if (record !== undefined && isTerminal(record.status)) return existing();
    if ((await stack.workflow.start(input as VideoJobInput)) === 'already-started') return existing();
    stats.childrenStarted += 1;
    startedHere.add(name);
    return follow(name, input, false);
  };

  const readItems = async (mapState: string, parameters: unknown): Promise<null> => {
    try {
      if (
        !isRecord(parameters) ||
        typeof parameters.Bucket !== 'string' ||
        typeof parameters.Key !== 'string'
      ) {
        throw new Error('ItemReader Parameters need Bucket and Key');
      }
      const { Body } = await stack.s3.client.send(
        new GetObjectCommand({
          Bucket: parameters.Bucket,
          Key: parameters.Key,
          ...(typeof parameters.VersionId === 'string' ? { VersionId: parameters.VersionId } : {}),
        }),
      );
      const config = isRecord(parameters.ReaderConfig) ? parameters.ReaderConfig : {};
      itemReaderSlots[mapState] = parseItems(
        Body ? await Body.transformToString('utf8') : '',
        config.InputType,
        config.MaxItems,
      );
      return null;
    } catch (error) {
      throw new ServiceIntegrationError(
        ITEM_READER_FAILED,
        error instanceof Error ? error.message : String(error),
      );
    }
  };

  const deps = { lambda: stack.lambda, dynamodb: stack.dynamo.client, events: stack.events };
  const readerOf = new Map(
    Object.keys(definition.States)
      .filter((name) => definition.States[itemReaderStateOf(name)] !== undefined)
      .map((name) => [itemReaderStateOf(name), name]),
  );
  const handlers = Object.fromEntries(
    [...taskStates(definition.States as unknown as Record<string, unknown>)].map(([stateName, resource]) => {
      const mapState = readerOf.get(stateName);
      if (mapState !== undefined) return [stateName, (input: unknown) => readItems(mapState, input)];
      if (START_EXECUTION_SYNC.test(resource)) return [stateName, startChild];
      const task = taskResource(stateName, resource, deps);
      return [
        stateName,
        async (input: unknown) => {
          const output = await task.run(input);
          if (stateName === BATCH_STATES.prepareBatch) {
            prepared = output as PreparedBatch;
            emit({ type: 'prepared', batch: prepared });
          }
          if (stateName === BATCH_STATES.summarizeBatch) summarized = true;
          return output;
        },
      ];
    }),
  );

  const machine = new StateMachine(definition);
  const executionName = batchId;
  const stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${batchMachine.name}`;
  const execution = machine.run({ batchId, manifest } as never, {
    overrides: { taskResourceLocalHandlers: handlers as never },
    context: {
      Execution: {
        Id: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`,
        Name: executionName,
        StartTime: new Date(started).toISOString(),
      },
      StateMachine: { Id: stateMachineArn, Name: batchMachine.name },
      [ITEM_READER]: itemReaderSlots,
    } as never,
  });
  const onAbort = () => {
    execution.abort();
    for (const name of startedHere) {
      void stack.workflow.stop(name, { error: 'BatchAborted', cause: `batch ${batchId} was aborted` });
    }
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // The interpreter queues every event of every item; draining them keeps a long batch's memory flat.
  const drained = (async () => {
    for await (const _ of execution.eventLogs) {
      // nothing to keep
    }
  })();

  let status: ExecutionStatus = 'SUCCEEDED';
  let error: string | undefined;
  let cause: string | undefined;
  try {
    await execution.result;
  } catch (failure) {
    if (failure instanceof ExecutionAbortedError) {
      status = 'ABORTED';
    } else if (failure instanceof ExecutionTimeoutError) {
      status = 'TIMED_OUT';
      error = 'States.Timeout';
    } else {
      const reason =
        failure instanceof ExecutionError && failure.cause instanceof Error ? failure.cause : failure;
      status = 'FAILED';
      error = reason instanceof Error ? reason.name : 'Error';
      cause = reason instanceof Error ? reason.message : String(reason);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  await drained;

  const summaryLocation: S3Location = { bucket: stack.s3.videosBucket, key: batchFileKeys(batchId).summary };
  // Only this run's: a failed PrepareBatch must not present an earlier run's summary or record.
  const summary = summarized ? await readJson<BatchSummary>(stack, summaryLocation) : undefined;
  const record = prepared === undefined ? undefined : await createBatchStore().get(batchId);
  stats.durationMs = Date.now() - started;
  emit({ type: 'finished', status, ...(summary === undefined ? {} : { summary }) });
  return {
    batchId,
    status,
    ...(error === undefined ? {} : { error }),
    ...(cause === undefined ? {} : { cause }),
    manifest,
    ...(summary === undefined ? {} : { summary, summaryLocation }),
    ...(record === undefined ? {} : { record }),
    stats,
  };
};
