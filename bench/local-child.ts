// The child process of a local-stack bench task (see bench/local-task.ts): one local stack, one task, the
// result sent to the parent over IPC. Never run by hand.
import '#local/polyfills';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { LocalTask, LocalTaskReply, LocalTaskResult } from '#bench/local-task';
import { confirmOnLocalStack } from '#bench/polling';
import { handlersByFunction, measureDefaultJob } from '#bench/workflow-overhead';
import { type LocalStack, startLocalStack } from '#local/stack';

/** Enough that no bench job ever meets a 406 for lack of credits. */
const CREDITS = 1_000_000;

/** Counts the bytes written to stdout while a sink is installed (the handlers' logs). */
const stdoutCounter = (): ((sink: ((bytes: number) => void) | undefined) => void) => {
  const original = process.stdout.write.bind(process.stdout);
  return (sink) => {
    if (!sink) {
      process.stdout.write = original;
      return;
    }
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      sink(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
      return original(chunk, ...rest);
    }) as typeof process.stdout.write;
  };
};

const workflowTask = async (task: Extract<LocalTask, { kind: 'workflow' }>): Promise<LocalTaskResult> => {
  // INFO is the handlers' level on AWS (POWERTOOLS_LOG_LEVEL is not set there): measure that volume.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  const stack = await startLocalStack({
    timeScale: task.timeScale,
    seed: task.seed,
    segmind: 'emulator',
    emulatorOptions: { credits: CREDITS },
  });
  try {
    const confirmation = await confirmOnLocalStack(stack, {
      shapes: task.confirmShapes,
      seed: task.seed,
      simulationsPerJob: task.simulationsPerJob,
    });
    const handlers = handlersByFunction(stack.lambda.functions);
    const overhead = await measureDefaultJob(stack, {
      jobId: `bench-overhead-${task.seed}`,
      handlersByFunction: handlers,
      readItem: async (jobId) =>
        (
          await stack.dynamo.client.send(
            new GetItemCommand({ TableName: stack.dynamo.jobsTable, Key: { jobId: { S: jobId } } }),
          )
        ).Item,
      countLogBytes: stdoutCounter(),
    });
    const memoryMb = Object.fromEntries(
      stack.lambda.functions.map((fn) => [handlers[fn.name] ?? fn.name, fn.memoryMb]),
    );
    return { kind: 'workflow', confirmation, overhead, memoryMb };
  } finally {
    await stack.stop();
  }
};

/** A local stack whose emulator enforces the task's rate limit (the request budget is sized from it at start). */
const startRateLimitedStack = (task: {
  timeScale: number;
  seed: number;
  rateLimitPerMinute: number;
}): Promise<LocalStack> =>
  startLocalStack({
    timeScale: task.timeScale,
    seed: task.seed,
    segmind: 'emulator',
    emulatorOptions: { credits: CREDITS, rateLimitPerMinute: task.rateLimitPerMinute },
  });

const batchTask = async (task: Extract<LocalTask, { kind: 'batch' }>): Promise<LocalTaskResult> => {
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const { runBatchBench } = await import('#bench/batch');
  const stack = await startRateLimitedStack(task);
  try {
    const batch = await runBatchBench(stack, {
      lines: task.lines,
      rateLimitPerMinute: task.rateLimitPerMinute,
      ...(task.concurrency === undefined ? {} : { concurrency: task.concurrency }),
    });
    return { kind: 'batch', batch };
  } finally {
    await stack.stop();
  }
};

const burstTask = async (task: Extract<LocalTask, { kind: 'burst' }>): Promise<LocalTaskResult> => {
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const { runBurstBench } = await import('#bench/burst');
  // The emulator's limit at start-up: the local stack sizes the shared request budget from it.
  const stack = await startRateLimitedStack(task);
  try {
    const burst = await runBurstBench(stack, {
      jobs: task.jobs,
      concurrency: task.concurrency,
      rateLimitPerMinute: task.rateLimitPerMinute,
    });
    return { kind: 'burst', burst };
  } finally {
    await stack.stop();
  }
};

const main = async (): Promise<void> => {
  const send = (reply: LocalTaskReply): Promise<void> =>
    new Promise((resolve) => {
      if (process.send) process.send(reply, () => resolve());
      else {
        process.stdout.write(`${JSON.stringify(reply)}\n`);
        resolve();
      }
    });
  try {
    const task = JSON.parse(process.argv[2] ?? '') as LocalTask;
    const result =
      task.kind === 'workflow'
        ? await workflowTask(task)
        : task.kind === 'burst'
          ? await burstTask(task)
          : await batchTask(task);
    await send({ ok: true, result });
    process.exitCode = 0;
  } catch (error) {
    await send({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exitCode = 1;
  }
  // Keep-alive sockets of the SDK clients would hold the process open.
  process.disconnect?.();
  setTimeout(() => process.exit(), 1000).unref();
};

await main();
