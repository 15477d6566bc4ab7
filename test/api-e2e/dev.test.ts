// `npm run dev` as a user runs it: a child process that starts the local stack and the API, prints where
// they are and a curl session, serves a whole job over HTTP, and stops cleanly on SIGINT or SIGTERM.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, SMALL_JOB } from '#test/api-e2e/support/api-stack';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEV = join(ROOT, 'infra', 'local', 'dev.ts');
/** What `npm run dev` runs (tsx), without tsx's wrapper process: a kill reaches the server itself. */
const devArgs = (...options: string[]): string[] => ['--import', 'tsx', DEV, ...options];

let workDir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ltx-dev-'));
});

afterEach(async () => {
  for (const proc of children.splice(0)) {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await once(proc, 'exit');
    }
  }
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The emulator, never Segmind; the data in the test's directory (kept across runs, as `.local` is). */
const childEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  SEGMIND_API_KEY: '',
  LTX_LOCAL_DATA_DIR: join(workDir, '.local'),
  POWERTOOLS_LOG_LEVEL: 'ERROR',
});

interface DevRun {
  proc: ChildProcessWithoutNullStreams;
  output: { text: string };
  banner: string;
  api: ApiClient;
  emulatorUrl: string;
  /** Resolves once `marker` has been printed (rejects if the process exits first). */
  printed(marker: string): Promise<void>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

const startDev = async (): Promise<DevRun> => {
  const proc = spawn(process.execPath, devArgs('--port', '0', '--time-scale', '100', '--seed', '3'), {
    cwd: ROOT,
    env: childEnv(),
  });
  children.push(proc);
  const output = { text: '' };
  const exited = once(proc, 'exit');
  const append = (chunk: Buffer) => {
    output.text += chunk.toString('utf8');
  };
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  const printed = (marker: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!output.text.includes(marker)) return;
        proc.stdout.off('data', check);
        resolve();
      };
      proc.stdout.on('data', check);
      void exited.then(() => reject(new Error(`dev exited before printing "${marker}":\n${output.text}`)));
      check();
    });

  await printed('Press Ctrl+C to stop.');
  const banner = output.text;
  const apiUrl = /^API\s+(http:\/\/127\.0\.0\.1:\d+\/v1)\s/m.exec(banner)?.[1];
  const emulatorUrl = /^Emulator\s+(http:\/\/127\.0\.0\.1:\d+)\s/m.exec(banner)?.[1];
  if (apiUrl === undefined || emulatorUrl === undefined) throw new Error(`no URLs in the banner:\n${banner}`);
  return {
    proc,
    output,
    banner,
    api: new ApiClient(apiUrl),
    emulatorUrl,
    printed,
    stop: async (signal) => {
      proc.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
};

describe('npm run dev', () => {
  it('serves the API on 127.0.0.1, makes a video over HTTP, and stops cleanly on SIGINT', async () => {
    const dev = await startDev();
    expect(dev.banner).toContain(`API=${dev.api.url}`);
    expect(dev.banner).toMatch(/curl -s -X POST "\$API\/videos"/);
    expect(dev.banner).toContain('.links.video.url');
    // The other entry points, each saying how to use it.
    expect(dev.banner).toMatch(/^Uploads\s+s3:\/\/local-uploads\/uploads\/\s/m);
    expect(dev.banner).toMatch(
      /^Scheduler\s+no schedule configured \(context batchSchedule\); trigger with: curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/batches$/m,
    );

    const created = await dev.api.create({ prompt: 'a red fox running through snow', ...SMALL_JOB });
    expect(created.status, created.text).toBe(202);
    const jobId = String(created.body.jobId);
    const view = await dev.api.waitForStatus(jobId, [
      'COMPLETED',
      'FAILED',
      'EXPIRED',
      'TIMED_OUT',
      'CANCELLED',
    ]);
    expect(view.status, JSON.stringify(view)).toBe('COMPLETED');
    const url = (view.links as { video: { url: string } }).video.url;
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe((view.video as { sha256: string }).sha256);

    const counters = (await (await fetch(`${dev.emulatorUrl}/__emulator/counters`)).json()) as {
      jobsCreated: number;
    };
    expect(counters.jobsCreated).toBe(1);
    await dev.printed(`job ${jobId} COMPLETED`);

    expect(await dev.stop('SIGINT'), dev.output.text).toBe(0);
    expect(dev.output.text).toContain('SIGINT: stopping the local stack');
    expect(dev.output.text).not.toContain('No application metrics to publish');
    await expect(fetch(`${dev.api.url}/videos`)).rejects.toThrow();
  });

  it('on SIGTERM ends the jobs still running as FAILED, which the next run shows', async () => {
    const first = await startDev();
    // Held in Segmind's queue for 10 emulated minutes: still running when the stack stops.
    const configured = await fetch(`${first.emulatorUrl}/__emulator/config`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ latency: { queueMedianSeconds: 600, queueSigma: 0, coldWorkerProbability: 0 } }),
    });
    expect(configured.status).toBe(200);
    const created = await first.api.create({ prompt: 'a fox left running', ...SMALL_JOB });
    const jobId = String(created.body.jobId);
    await first.api.waitForStatus(jobId, ['QUEUED', 'PROCESSING']);

    expect(await first.stop('SIGTERM'), first.output.text).toBe(0);
    expect(first.output.text).toContain('SIGTERM: stopping the local stack');

    const second = await startDev();
    const after = await second.api.get(jobId);
    expect(after.body).toMatchObject({ status: 'FAILED', error: { code: 'LocalStackStopped' } });
    expect(await second.stop('SIGINT')).toBe(0);
  });

  it('refuses a bad option with exit code 2 and the usage, before starting anything', async () => {
    const result = await promisify(execFile)(process.execPath, devArgs('--port', 'eighty'), {
      cwd: ROOT,
      env: childEnv(),
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('port: must be a whole number from 0 to 65535');
    expect(result.stderr).toContain('Usage: npm run dev');
  });
});
