// The bench parts that need the local stack run in child processes (bench/local-child.ts): the handlers
// read their configuration — the time scale among it — once per process, so each part that wants its own
// time scale or log level gets its own process. This is the parent's side and the messages.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BatchBenchResult } from '#bench/batch';
import type { BurstBenchResult } from '#bench/burst';
import type { LocalConfirmation } from '#bench/polling';
import type { MeasuredJob } from '#bench/workflow-overhead';
import type { Duration, Resolution } from '#domain/video-request';
import { PROJECT_ROOT } from '#infra/constructs/handlers';

export type LocalTask =
  | {
      kind: 'workflow';
      timeScale: number;
      seed: number;
      confirmShapes: Array<{ resolution: Resolution; duration: Duration; generateAudio: boolean }>;
      simulationsPerJob: number;
    }
  | {
      kind: 'batch';
      timeScale: number;
      seed: number;
      lines: number;
      rateLimitPerMinute: number;
      /** Overrides the synthesized MaxConcurrency. */
      concurrency?: number;
    }
  | {
      kind: 'burst';
      timeScale: number;
      seed: number;
      jobs: number;
      concurrency: number;
      rateLimitPerMinute: number;
    };

export type LocalTaskResult =
  | {
      kind: 'workflow';
      confirmation: LocalConfirmation;
      overhead: MeasuredJob;
      /** Lambda memory sizes by handler, from the synthesized template. */
      memoryMb: Record<string, number>;
    }
  | { kind: 'batch'; batch: BatchBenchResult }
  | { kind: 'burst'; burst: BurstBenchResult };

export type LocalTaskReply = { ok: true; result: LocalTaskResult } | { ok: false; error: string };

const CHILD = fileURLToPath(new URL('./local-child.ts', import.meta.url));
/** Lines of the child's stderr kept for the error message when it fails. */
const STDERR_TAIL = 40;

/** Runs one task in a fresh process (tsx loader) and resolves with its result. */
export const runLocalTask = (task: LocalTask, timeoutMs: number): Promise<LocalTaskResult> =>
  new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(task)], {
      cwd: PROJECT_ROOT,
      execArgv: ['--import', 'tsx'],
      // The handlers log to stdout (at INFO for the workflow task, to measure log volume): drained, not shown.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const stderr: string[] = [];
    child.stdout?.resume();
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr.push(...chunk.split('\n'));
      stderr.splice(0, Math.max(0, stderr.length - STDERR_TAIL));
    });
    let reply: LocalTaskReply | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench task ${task.kind} did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    child.on('message', (message) => {
      reply = message as LocalTaskReply;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (reply?.ok) resolve(reply.result);
      else {
        const why = reply?.ok === false ? reply.error : `exited with ${signal ?? code} before answering`;
        reject(new Error(`bench task ${task.kind}: ${why}\n${stderr.join('\n').trim()}`));
      }
    });
  });
