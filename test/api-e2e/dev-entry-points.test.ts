// `npm run dev` starts all three entry points, as a user runs it: a child process whose uploads watcher
// turns an image put into local S3 into a video, whose scheduler runs the schedule given as CDK context and
// starts a batch by hand from its control route, and whose handlers print no metrics warnings.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_JOB } from '#test/api-e2e/support/api-stack';
import { match, startDev } from '#test/api-e2e/support/dev-process';

/** A real 1×1 PNG: the emulator downloads the image, so it must be readable. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

let workDir: string;
let proc: ChildProcessWithoutNullStreams | undefined;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ltx-dev-entry-'));
});

afterAll(async () => {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('npm run dev, all entry points', () => {
  it('turns an uploaded image into a video, runs the schedule from context, and a batch on request', async () => {
    const dev = startDev(
      [
        ...['--port', '0', '--time-scale', '100', '--seed', '5'],
        ...['-c', 'batchSchedule=cron(0 9 * * ? *)', '-c', 'batchTimeZone=Europe/Paris'],
      ],
      { SEGMIND_API_KEY: '', LTX_LOCAL_DATA_DIR: join(workDir, '.local'), POWERTOOLS_LOG_LEVEL: 'ERROR' },
    );
    proc = dev.child;

    await dev.printed(/Press Ctrl\+C to stop\./);
    const [api = ''] = match(dev.output, /^API\s+(http:\/\/127\.0\.0\.1:\d+\/v1)\s/m);
    const [s3Endpoint = '', videosBucket = ''] = match(
      dev.output,
      /^S3\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(videos: ([^,]+), uploads: [^)]+\)/m,
    );
    const [uploadsBucket = '', uploadsPrefix = ''] = match(dev.output, /^Uploads\s+s3:\/\/([^/]+)\/(\S*)\s/m);
    const [control = ''] = match(dev.output, /control (http:\/\/127\.0\.0\.1:\d+)/);
    // The schedule comes from the app's context, as `cdk deploy -c` would deploy it.
    expect(dev.output).toMatch(
      /^Scheduler\s+cron\(0 9 \* \* \? \*\) in Europe\/Paris, over s3:\/\/\S+\/manifests\/scheduled\.jsonl; next run \d{4}-\d\d-\d\d 09:00 Europe\/Paris/m,
    );
    expect(dev.output).toContain(`curl -s -X POST ${control}/batches`);

    const s3 = new S3Client({
      endpoint: s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      // An image and its sidecar, as the banner's AWS CLI lines put them.
      const put = (Bucket: string, Key: string, Body: string | Buffer) =>
        s3.send(new PutObjectCommand({ Bucket, Key, Body }));
      await put(
        uploadsBucket,
        `${uploadsPrefix}fox.png.json`,
        JSON.stringify({ prompt: 'the fox looks up', ...SMALL_JOB }),
      );
      await put(uploadsBucket, `${uploadsPrefix}fox.png`, PNG);
      const [uploadJob = ''] = await dev.printed(/upload s3:\/\/\S+\/fox\.png → job (\S+) started/);
      await dev.printed(new RegExp(`job ${uploadJob} COMPLETED \\d+ bytes at s3://`));
      const listed = (await (await fetch(`${api}/videos?status=COMPLETED`)).json()) as {
        items: { jobId: string; source: string }[];
      };
      expect(listed.items).toContainEqual(expect.objectContaining({ jobId: uploadJob, source: 'upload' }));

      // A batch by hand over the schedule's manifest: two videos and a line that is not a request.
      const manifest = [
        JSON.stringify({ prompt: 'a red fox in snow', ...SMALL_JOB }),
        '{"prompt": ""}',
        JSON.stringify({ prompt: 'a hen at dawn', ...SMALL_JOB }),
      ];
      await put(videosBucket, 'manifests/scheduled.jsonl', manifest.map((line) => `${line}\n`).join(''));
      const started = await fetch(`${control}/batches`, { method: 'POST' });
      expect(started.status).toBe(202);
      const { batchId } = (await started.json()) as { batchId: string };
      expect(batchId).toMatch(/^\d{8}T\d{6}Z$/);

      await dev.printed(new RegExp(`batch ${batchId} COMPLETED_WITH_FAILURES`));
      const batch = (await (await fetch(`${control}/batches/${batchId}`)).json()) as {
        status: string;
        summary: { counts: Record<string, number>; failures: { line: number }[] };
      };
      expect(batch.status).toBe('SUCCEEDED');
      expect(batch.summary.counts).toEqual({ COMPLETED: 2, INVALID: 1 });
      expect(batch.summary.failures.map((failure) => failure.line)).toEqual([2]);
    } finally {
      s3.destroy();
    }

    // Every handler ran (API, upload, workflow, batch) without Powertools' empty-metrics warning.
    expect(dev.output).not.toContain('No application metrics to publish');
    dev.child.kill('SIGINT');
    const [code] = (await dev.exited) as [number | null];
    expect(code, dev.output).toBe(0);
  });
});
