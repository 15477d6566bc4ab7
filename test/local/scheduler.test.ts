// The local batch scheduler: it runs the schedule the CDK app synthesizes (not a copy of it), starts the
// batch when due — named after the scheduled time, over the schedule's manifest — and by hand through its
// dev-only control route. Time is a fake clock moved forward by the test; batches are a recorded stub.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CfnTemplate } from '#infra/definition';
import { buildApp } from '#infra/stack';
import { batchStateMachineOf, type LocalBatchOptions, type LocalBatchRun } from '#local/batch-runner';
import {
  BatchAlreadyRunningError,
  type LocalScheduler,
  MAX_SLEEP_MS,
  ManifestNotFoundError,
  type SchedulerClock,
  type SchedulerControl,
  startLocalScheduler,
  startSchedulerControl,
} from '#local/scheduler';
import { localRef, resourcesOfType } from '#local/template';

const SCHEDULE = { batchSchedule: 'cron(0 9 * * ? *)', batchTimeZone: 'Europe/Paris' };
const MANIFEST = ['{"prompt":"a fox","duration":6}', 'not json', '{"prompt":"a hen","duration":6}'];

let outRoot: string;
let scheduled: CfnTemplate;
let unscheduled: CfnTemplate;

/** The app's template as the local stack synthesizes it, with this context. */
const templateWith = (context: Record<string, unknown>): CfnTemplate => {
  const { app, stack } = buildApp({
    bundling: false,
    outdir: mkdtempSync(join(outRoot, 'app-')),
    cloudFormationValidation: false,
    context: { ...context, '@aws-cdk/core:validateAgainstDefaultRules': false },
  });
  return app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
};

beforeAll(() => {
  outRoot = mkdtempSync(join(tmpdir(), 'ltx-scheduler-test-'));
  scheduled = templateWith(SCHEDULE);
  unscheduled = templateWith({});
});
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** A clock that moves only when told, firing the timers that fall due on the way. */
class FakeClock implements SchedulerClock {
  #now: number;
  #timers: { at: number; callback: () => void }[] = [];
  constructor(iso: string) {
    this.#now = Date.parse(iso);
  }
  now = (): Date => new Date(this.#now);
  setTimer = (callback: () => void, ms: number): (() => void) => {
    // The scheduler must look at the clock again within a minute, however far the next run.
    expect(ms).toBeLessThanOrEqual(MAX_SLEEP_MS);
    const timer = { at: this.#now + ms, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  };
  advanceTo(iso: string): void {
    const target = Date.parse(iso);
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.callback();
    }
    this.#now = target;
  }
}

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });
let clock: FakeClock;
let runBatch: ReturnType<typeof vi.fn<(options: LocalBatchOptions) => Promise<LocalBatchRun>>>;
let logged: string[];
let scheduler: LocalScheduler | undefined;
let control: SchedulerControl | undefined;

const videosBucketOf = (template: CfnTemplate): string => {
  const [bucket] = resourcesOfType(template, 'AWS::S3::Bucket')
    .map(([id]) => localRef(template, id))
    .filter((name) => name.startsWith('storagevideos'));
  if (bucket === undefined) throw new Error('no videos bucket in the template');
  return bucket;
};

const putManifest = (template: CfnTemplate, key: string, lines: readonly string[]): void => {
  s3.on(GetObjectCommand, { Bucket: videosBucketOf(template), Key: key }).resolves({
    Body: { transformToString: async () => lines.map((line) => `${line}\n`).join('') } as never,
  });
};

const start = (template: CfnTemplate): LocalScheduler => {
  scheduler = startLocalScheduler(
    { template, s3: { client, videosBucket: videosBucketOf(template) } },
    {
      batchStateMachineId: batchStateMachineOf({ template }).name,
      defaultManifestKey: 'manifests/scheduled.jsonl',
      clock,
      log: (line) => logged.push(line),
      runBatch: runBatch as unknown as Parameters<typeof startLocalScheduler>[1]['runBatch'],
    },
  );
  return scheduler;
};

const succeeded = (options: LocalBatchOptions): LocalBatchRun => ({
  batchId: options.batchId ?? 'unnamed',
  status: 'SUCCEEDED',
  manifest: { bucket: 'b', key: `manifests/${options.batchId}.jsonl` },
  stats: { maxConcurrency: 3, childrenStarted: 2, childrenExisting: 0, maxRunningChildren: 2, durationMs: 1 },
});

beforeEach(() => {
  s3.reset();
  s3.on(GetObjectCommand).rejects(
    Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }),
  );
  clock = new FakeClock('2026-01-05T07:58:30Z'); // 08:58:30 in Paris
  runBatch = vi.fn(async (options: LocalBatchOptions) => succeeded(options));
  logged = [];
});

afterEach(async () => {
  await control?.stop();
  await scheduler?.stop();
  control = undefined;
  scheduler = undefined;
});

describe('the schedule of the synthesized app', () => {
  it('is read from the template: expression, time zone and the target input', () => {
    const local = start(scheduled);
    expect(local.schedule).toMatchObject({
      expression: 'cron(0 9 * * ? *)',
      timeZone: 'Europe/Paris',
      enabled: true,
    });
    expect(JSON.parse(local.schedule?.input ?? '{}')).toEqual({
      batchId: '<aws.scheduler.scheduled-time>',
      manifest: { bucket: videosBucketOf(scheduled), key: 'manifests/scheduled.jsonl' },
    });
    expect(local.nextRun()?.toISOString()).toBe('2026-01-05T08:00:00.000Z');
  });

  it('starts the batch when due, named after the scheduled time, over the manifest in local S3', async () => {
    putManifest(scheduled, 'manifests/scheduled.jsonl', MANIFEST);
    const local = start(scheduled);

    clock.advanceTo('2026-01-05T07:59:59Z');
    expect(runBatch).not.toHaveBeenCalled();

    clock.advanceTo('2026-01-05T08:00:30Z');
    await vi.waitFor(() => expect(runBatch).toHaveBeenCalledTimes(1));
    // Scheduler's <aws.scheduler.scheduled-time>, 2026-01-05T08:00:00Z, as PrepareBatch names the batch.
    expect(runBatch.mock.calls[0]?.[0]).toMatchObject({ batchId: '20260105T080000Z', lines: MANIFEST });
    await local.idle();
    expect(local.run('20260105T080000Z')).toMatchObject({
      trigger: 'schedule',
      scheduledTime: '2026-01-05T08:00:00Z',
      manifest: { key: 'manifests/scheduled.jsonl' },
      status: 'SUCCEEDED',
    });
    expect(local.nextRun()?.toISOString()).toBe('2026-01-06T08:00:00.000Z');

    // A day later, the next run: once.
    clock.advanceTo('2026-01-06T08:00:00Z');
    await vi.waitFor(() => expect(runBatch).toHaveBeenCalledTimes(2));
    expect(runBatch.mock.calls[1]?.[0]).toMatchObject({ batchId: '20260106T080000Z' });
  });

  it('says why a scheduled run did not start when the manifest is missing, and keeps the schedule', async () => {
    const local = start(scheduled);
    clock.advanceTo('2026-01-05T08:00:00Z');
    await vi.waitFor(() => expect(logged.join('\n')).toContain('did not start'));
    expect(logged.join('\n')).toContain(
      `no manifest at s3://${videosBucketOf(scheduled)}/manifests/scheduled.jsonl`,
    );
    expect(runBatch).not.toHaveBeenCalled();
    expect(local.nextRun()?.toISOString()).toBe('2026-01-06T08:00:00.000Z');
  });

  it('keeps a schedule the evaluator refuses inactive, with the reason, and still runs batches by hand', async () => {
    const template = structuredClone(scheduled);
    for (const [, resource] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
      (resource.Properties as Record<string, unknown>).ScheduleExpression = 'cron(0 9 L * ? *)';
    }
    putManifest(template, 'manifests/scheduled.jsonl', MANIFEST);
    const local = start(template);
    expect(local.inactive).toContain('L, W or #');
    expect(local.nextRun()).toBeUndefined();
    await expect(local.trigger()).resolves.toMatchObject({ trigger: 'manual', status: 'RUNNING' });
  });
});

describe('without a schedule', () => {
  it('runs nothing by itself, and a manual trigger reads the default manifest, named after now', async () => {
    putManifest(unscheduled, 'manifests/scheduled.jsonl', MANIFEST);
    const local = start(unscheduled);
    expect(local.schedule).toBeUndefined();
    expect(local.nextRun()).toBeUndefined();
    clock.advanceTo('2026-01-07T00:00:00Z');
    expect(runBatch).not.toHaveBeenCalled();

    const batch = await local.trigger();
    expect(batch).toMatchObject({ batchId: '20260107T000000Z', trigger: 'manual' });
    expect(runBatch.mock.calls[0]?.[0]).toMatchObject({ batchId: '20260107T000000Z', lines: MANIFEST });
  });

  it('runs another manifest or batch id on request, and refuses a batch that is running already', async () => {
    putManifest(unscheduled, 'manifests/other.jsonl', MANIFEST);
    let finish: () => void = () => undefined;
    runBatch.mockImplementation(
      (options) => new Promise((resolve) => (finish = () => resolve(succeeded(options)))),
    );
    const local = start(unscheduled);
    await expect(
      local.trigger({ manifestKey: 'manifests/other.jsonl', batchId: 'nightly-1' }),
    ).resolves.toMatchObject({ batchId: 'nightly-1', manifest: { key: 'manifests/other.jsonl' } });
    await expect(
      local.trigger({ manifestKey: 'manifests/other.jsonl', batchId: 'nightly-1' }),
    ).rejects.toThrow(BatchAlreadyRunningError);
    await expect(local.trigger({ manifestKey: 'elsewhere/x.jsonl' })).rejects.toThrow(
      'must be under manifests/',
    );
    await expect(local.trigger({ manifestKey: 'manifests/none.jsonl' })).rejects.toThrow(
      ManifestNotFoundError,
    );
    finish();
    await local.idle();
    expect(local.run('nightly-1')?.status).toBe('SUCCEEDED');
  });
});

describe('the control route', () => {
  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${control?.url}${path}`, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('starts a batch now, shows it and the schedule, and says what is wrong with a request', async () => {
    putManifest(scheduled, 'manifests/scheduled.jsonl', MANIFEST);
    control = await startSchedulerControl(start(scheduled));
    expect(control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const started = await call('/batches', { method: 'POST' });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ batchId: '20260105T075830Z', trigger: 'manual' });
    await scheduler?.idle();
    expect((await call(`/batches/${started.body.batchId}`)).body).toMatchObject({ status: 'SUCCEEDED' });
    expect((await call('/schedule')).body).toEqual({
      schedule: {
        expression: 'cron(0 9 * * ? *)',
        timeZone: 'Europe/Paris',
        enabled: true,
        nextRun: '2026-01-05T08:00:00.000Z',
      },
    });

    const missing = await call('/batches', {
      method: 'POST',
      body: '{"manifestKey":"manifests/none.jsonl"}',
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain('no manifest at');
    const wrongField = await call('/batches', { method: 'POST', body: '{"manifest":"x"}' });
    expect(wrongField.status).toBe(400);
    const notJson = await call('/batches', { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await call('/batches/nope')).status).toBe(404);
  });
});
