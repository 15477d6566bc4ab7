// One soak from start to end: a fresh local stack with faults, its API, the drive, the verdict, the table.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driveSoak, planSoak, SOAK_JOB_SHAPE } from '#local/soak/driver';
import { judgeSoak, type SoakVerdict } from '#local/soak/invariants';
import { captureLogs } from '#local/soak/log-capture';
import { formatSoakTable } from '#local/soak/table';

export interface SoakOptions {
  jobs: number;
  faultRate: number;
  seed: number;
  timeScale: number;
  rateLimitPerMinute: number;
  jobsPerMinute: number;
  logLevel: string;
}

export interface SoakReport {
  verdict: SoakVerdict;
  table: string;
  /** Where the run's data (S3 objects, records, events.jsonl, soak.log) stays for a closer look. */
  dataDir: string;
  problems: string[];
}

/** Segmind's retention: every job must have ended within it. */
const DEADLINE_SECONDS = 3600;

export const runSoak = async (
  options: SoakOptions,
  io: { command: string; progress?: boolean },
): Promise<SoakReport> => {
  const plan = planSoak(options.jobs, {
    seed: options.seed,
    timeScale: options.timeScale,
    jobsPerMinute: options.jobsPerMinute,
    deadlineSeconds: DEADLINE_SECONDS,
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'ltx-soak-'));
  process.env.POWERTOOLS_LOG_LEVEL = options.logLevel;
  let apiKeys: readonly string[] = [];
  const logs = captureLogs({ file: join(dataDir, 'soak.log'), secrets: () => apiKeys });
  try {
    // Loaded now: the handler modules read the environment the stack sets.
    const { startLocalStack } = await import('#local/stack');
    const { localApiHandlers, startLocalApi } = await import('#local/api-server');
    const stack = await startLocalStack({
      segmind: 'emulator',
      dataDir,
      timeScale: options.timeScale,
      seed: options.seed,
      emulatorOptions: {
        rateLimitPerMinute: options.rateLimitPerMinute,
        credits: options.jobs * 10,
        retentionSeconds: DEADLINE_SECONDS,
        randomFaults: { rate: options.faultRate, seed: options.seed },
      },
    });
    try {
      const emulator = stack.emulator;
      if (emulator === undefined) throw new Error('the soak needs the emulator');
      apiKeys = emulator.apiKeys;
      await emulator.prepareVideos([SOAK_JOB_SHAPE]);
      const api = await startLocalApi({
        handlers: await localApiHandlers({ workflow: stack.workflow, events: stack.events }),
      });
      try {
        const run = await driveSoak(stack, api.url, plan, {
          ...(io.progress ? { progress: (line: string) => logs.terminal(`[soak] ${line}`) } : {}),
          logs: () => ({ logLeaks: logs.leaks(), logLines: logs.lines() }),
        });
        const verdict = judgeSoak(run.evidence);
        const counters = emulator.control.counters();
        const table = formatSoakTable(verdict, {
          command: io.command,
          seed: options.seed,
          faultRate: options.faultRate,
          timeScale: options.timeScale,
          rateLimitPerMinute: options.rateLimitPerMinute,
          wallSeconds: run.wallSeconds,
          eventLoopDelayMs: run.eventLoopDelayMs,
          faultsByKind: counters.faultsByKind as Record<string, Record<string, number>>,
          segmindRequests:
            counters.byEndpoint.submit +
            counters.byEndpoint.status +
            counters.byEndpoint.result +
            counters.byEndpoint.download,
        });
        const withProblems =
          run.problems.length === 0
            ? table
            : `${table}\n\nThe driver met ${run.problems.length} problem(s): ${run.problems.slice(0, 5).join('; ')}`;
        return { verdict, table: withProblems, dataDir, problems: run.problems };
      } finally {
        await api.stop();
      }
    } finally {
      await stack.workflow.stopAll().catch(() => undefined);
      await stack.stop();
    }
  } finally {
    logs.stop();
  }
};
