// Drives a soak through the whole local stack: API jobs at a steady pace (a few cancelled by the user),
// image uploads through the uploads watcher, and one batch, all against the emulator with seeded random
// faults and its rate limit on. Then it gathers the evidence the invariants judge (evidence.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { isTerminal } from '#domain/video-job';
import { mulberry32, type Random } from '#emulator/random';
import { runLocalBatch } from '#local/batch-runner';
import { gatherEvidence } from '#local/soak/evidence';
import type { SoakEvidence } from '#local/soak/invariants';
import type { LocalStack } from '#local/stack';
import { startUploadsWatcher } from '#local/uploads-watcher';

/** Every soak job has this shape, so the emulator renders one MP4 (cached) for all of them. */
export const SOAK_JOB_SHAPE = { resolution: '1080p', duration: 6, generateAudio: true } as const;

/** A real 1×1 PNG: the emulator fetches an upload's presigned image URL, so it must be readable. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

export interface SoakPlan {
  /** Jobs in all: most through the API, `uploads` from image uploads and `batchLines` from one batch. */
  jobs: number;
  uploads: number;
  batchLines: number;
  /** API jobs the user cancels, at a random moment of their run. */
  cancels: number;
  seed: number;
  /** Emulated seconds per real second. */
  timeScale: number;
  /** New jobs per emulated minute (API and uploads; the batch paces itself). */
  jobsPerMinute: number;
  /** Segmind keeps a job this long (emulated seconds): every job must end within it. */
  deadlineSeconds: number;
}

/** The default split of `jobs`: 2 % uploads and 5 % batch lines (at least 2 and 3), 2 % cancelled (at least 2). */
export const planSoak = (
  jobs: number,
  options: Pick<SoakPlan, 'seed' | 'timeScale' | 'jobsPerMinute' | 'deadlineSeconds'>,
): SoakPlan => {
  const uploads = Math.max(2, Math.round(jobs * 0.02));
  const batchLines = Math.max(3, Math.round(jobs * 0.05));
  const apiJobs = jobs - uploads - batchLines;
  if (apiJobs < 5)
    throw new RangeError(`a soak needs at least ${uploads + batchLines + 5} jobs, got ${jobs}`);
  return { jobs, uploads, batchLines, cancels: Math.max(2, Math.round(jobs * 0.02)), ...options };
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Each job's prompt is its own: the invariants match pipeline jobs to Segmind's by prompt. */
const promptOf = (seed: number, kind: string, n: number): string =>
  `soak ${seed} ${kind} ${n}: a paper boat drifting down a rain gutter`;

interface DriverState {
  started: string[];
  cancelled: string[];
  problems: string[];
}

export interface SoakRun {
  evidence: SoakEvidence;
  /**
   * How late this process's timers ran (ms), p99 and max. The emulator's clock runs at the time scale
   * whatever the machine does: when this lag is large, deadlines break because the machine fell behind.
   */
  eventLoopDelayMs: { p99: number; max: number };
  /** What the driver itself could not do (an API call refused): printed with the table. */
  problems: string[];
  wallSeconds: number;
}

/**
 * Runs the plan on a started stack whose API listens at `apiUrl`, waits until every job is terminal (or
 * its deadline has passed), and gathers the evidence.
 */
export const driveSoak = async (
  stack: LocalStack,
  apiUrl: string,
  plan: SoakPlan,
  hooks: {
    progress?: (line: string) => void;
    logs: () => Pick<SoakEvidence, 'logLeaks' | 'logLines'>;
  },
): Promise<SoakRun> => {
  const began = Date.now();
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const random = mulberry32(plan.seed ^ 0x51f15e);
  const state: DriverState = { started: [], cancelled: [], problems: [] };
  const watcher = await startUploadsWatcher(stack, {
    onOutcome: (outcome) => {
      if (outcome.action === 'started') state.started.push(outcome.jobId);
      else if (outcome.action !== 'skipped' && outcome.action !== 'existing')
        state.problems.push(`upload ${outcome.jobId}: ${outcome.action}`);
    },
    onError: (error) => state.problems.push(`upload handler threw: ${String(error)}`),
  });
  try {
    const realMsPerJob = 60_000 / plan.jobsPerMinute / plan.timeScale;
    const apiJobs = plan.jobs - plan.uploads - plan.batchLines;
    const cancelEvery = Math.max(1, Math.floor(apiJobs / plan.cancels));
    const batchLines = Array.from({ length: plan.batchLines }, (_, i) =>
      JSON.stringify({ prompt: promptOf(plan.seed, 'batch line', i + 1), ...SOAK_JOB_SHAPE }),
    );
    const batch = runLocalBatch(stack, {
      lines: batchLines,
      batchId: `soak-${plan.seed}-${began.toString(36)}`,
      onEvent: (event) => {
        if (event.type === 'line-started') state.started.push(event.jobId);
      },
    });
    const arrivals: Promise<void>[] = [];
    // Uploads spread evenly among the API jobs.
    const uploadEvery = Math.max(1, Math.floor(apiJobs / plan.uploads));
    let uploads = 0;
    let cancels = 0;
    for (let i = 0; i < apiJobs; i += 1) {
      const cancel = i % cancelEvery === Math.floor(cancelEvery / 2) && cancels < plan.cancels;
      if (cancel) cancels += 1;
      arrivals.push(createApiJob(apiUrl, plan, i + 1, cancel ? random : undefined, state));
      if (i % uploadEvery === 0 && uploads < plan.uploads) {
        uploads += 1;
        arrivals.push(uploadImage(stack, plan.seed, uploads, state));
      }
      if ((i + 1) % 50 === 0) hooks.progress?.(`${i + 1}/${apiJobs} API jobs started`);
      await sleep(realMsPerJob);
    }
    await Promise.all(arrivals);
    await batch;
    hooks.progress?.(`all ${state.started.length} jobs started; waiting for them to end`);
    await waitForTerminal(stack, state.started, (plan.deadlineSeconds * 1000) / plan.timeScale + 10_000);
    await watcher.idle();
    const evidence = await gatherEvidence(stack, {
      plan,
      startedJobIds: [...new Set(state.started)],
      cancelledByUser: state.cancelled,
      ...hooks.logs(),
    });
    return {
      evidence,
      problems: state.problems,
      wallSeconds: (Date.now() - began) / 1000,
      eventLoopDelayMs: { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    };
  } finally {
    lag.disable();
    await watcher.stop();
  }
};

const createApiJob = async (
  apiUrl: string,
  plan: SoakPlan,
  n: number,
  cancelRandom: Random | undefined,
  state: DriverState,
): Promise<void> => {
  const response = await fetch(`${apiUrl}/videos`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `soak-${plan.seed}-${n}` },
    body: JSON.stringify({ prompt: promptOf(plan.seed, 'api job', n), ...SOAK_JOB_SHAPE }),
  });
  const body = (await response.json()) as { jobId?: string };
  if (response.status !== 202 || body.jobId === undefined) {
    state.problems.push(`POST /videos #${n} answered ${response.status}`);
    return;
  }
  state.started.push(body.jobId);
  if (cancelRandom === undefined) return;
  // Anywhere in a typical job's life (about a minute, emulated), so cancels meet every phase.
  await sleep((cancelRandom() * 70_000) / plan.timeScale);
  const cancelled = await fetch(`${apiUrl}/videos/${encodeURIComponent(body.jobId)}`, { method: 'DELETE' });
  await cancelled.arrayBuffer();
  if (cancelled.status < 300) state.cancelled.push(body.jobId);
};

/**
 * An image whose request rides in its object metadata: one PUT, one event, so no sidecar can race it
 * (the sidecar path has its own tests).
 */
const uploadImage = async (stack: LocalStack, seed: number, n: number, state: DriverState): Promise<void> => {
  const key = `uploads/soak-${seed}-${n}.png`;
  try {
    await stack.s3.client.send(
      new PutObjectCommand({
        Bucket: stack.s3.uploadsBucket,
        Key: key,
        Body: PNG,
        ContentType: 'image/png',
        Metadata: {
          prompt: promptOf(seed, 'upload', n),
          resolution: SOAK_JOB_SHAPE.resolution,
          duration: String(SOAK_JOB_SHAPE.duration),
          'generate-audio': String(SOAK_JOB_SHAPE.generateAudio),
        },
      }),
    );
  } catch (error) {
    state.problems.push(`upload ${key}: ${String(error)}`);
  }
};

/** Polls the records until every job is terminal or `timeoutMs` has passed. */
const waitForTerminal = async (
  stack: LocalStack,
  jobIds: readonly string[],
  timeoutMs: number,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let open = [...new Set(jobIds)];
  while (open.length > 0 && Date.now() < deadline) {
    const records = await Promise.all(open.map((id) => stack.jobs.get(id)));
    open = open.filter((_, i) => {
      const status = records[i]?.status;
      return status === undefined || !isTerminal(status);
    });
    if (open.length > 0) await sleep(250);
  }
};
