// No presigned URL and no Segmind key in any log line. `npm run dev` runs as a user runs it, with every
// handler log on (DEBUG, and each invocation's event logged): jobs through the API, an image upload and a
// batch — each carrying a presigned image URL, one failing on it — and every line the process prints
// (Lambda handler logs, the local stack's own lines) is scanned for X-Amz-Signature, X-Amz-Credential and
// the key the emulator was called with.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_PREFIX } from '#emulator/control';
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
  workDir = await mkdtemp(join(tmpdir(), 'ltx-no-secrets-'));
});

afterAll(async () => {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

interface EmulatorJob {
  apiKey: string;
  image: string | null;
}

describe('the logs of a full local run', () => {
  it('hold no X-Amz-Signature, no X-Amz-Credential and not the Segmind key, from any entry point', async () => {
    const dev = startDev(
      ['--port', '0', '--time-scale', '100'],
      {
        SEGMIND_API_KEY: '',
        LTX_LOCAL_DATA_DIR: join(workDir, '.local'),
        // Everything a handler can log: every level, and each invocation's event (requests, job inputs).
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        POWERTOOLS_LOGGER_LOG_EVENT: 'true',
      },
      60_000,
    );
    proc = dev.child;

    await dev.printed(/Press Ctrl\+C to stop\./);
    const [api = ''] = match(dev.output, /^API\s+(http:\/\/127\.0\.0\.1:\d+\/v1)\s/m);
    const [emulator = ''] = match(dev.output, /^Emulator\s+(http:\/\/127\.0\.0\.1:\d+)\s/m);
    const [s3Endpoint = '', videosBucket = ''] = match(
      dev.output,
      /^S3\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(videos: ([^,]+), uploads: [^)]+\)/m,
    );
    const [uploadsBucket = '', uploadsPrefix = ''] = match(dev.output, /^Uploads\s+s3:\/\/([^/]+)\/(\S*)\s/m);
    const [control = ''] = match(dev.output, /control (http:\/\/127\.0\.0\.1:\d+)/);

    const s3 = new S3Client({
      endpoint: s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const put = (Bucket: string, Key: string, Body: string | Buffer) =>
      s3.send(new PutObjectCommand({ Bucket, Key, Body }));
    /** A caller's own presigned GET URL of an image, as a user hands one to the API or a batch line. */
    const presigned = (Key: string) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket: videosBucket, Key }), { expiresIn: 3600 });
    const ended = (jobId: string, status: string) => dev.printed(new RegExp(`job ${jobId} ${status}\\b`));
    try {
      await put(videosBucket, 'images/fox.png', PNG);
      const imageUrl = await presigned('images/fox.png');
      expect(imageUrl).toContain('X-Amz-Signature=');

      // API: a job from a presigned image, and one whose presigned image does not exist (it fails on it).
      const create = async (body: object): Promise<string> => {
        const response = await fetch(`${api}/videos`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(response.status, await response.clone().text()).toBe(202);
        return ((await response.json()) as { jobId: string }).jobId;
      };
      const apiJob = await create({ prompt: 'the fox looks up', imageUrl, ...SMALL_JOB });
      const missingImageJob = await create({
        prompt: 'the fox is gone',
        imageUrl: await presigned('images/missing.png'),
        ...SMALL_JOB,
      });
      await ended(apiJob, 'COMPLETED');
      await ended(missingImageJob, 'FAILED');
      // A finished job's view carries a presigned video link: reading it is logged too.
      const view = (await (await fetch(`${api}/videos/${apiJob}`)).json()) as {
        links: { video?: { url: string } };
      };
      expect(view.links.video?.url).toContain('X-Amz-Signature=');
      expect((await fetch(`${api}/videos?status=COMPLETED`)).status).toBe(200);

      // Upload: the watcher starts the job; its image reaches Segmind as a URL presigned by start-from-upload.
      await put(
        uploadsBucket,
        `${uploadsPrefix}hen.png.json`,
        JSON.stringify({ prompt: 'a hen', ...SMALL_JOB }),
      );
      // The sidecar's own event is handled first (nothing to start yet), so it cannot race the image's write.
      await dev.printed(/upload s3:\/\/\S+\/hen\.png\.json → /);
      await put(uploadsBucket, `${uploadsPrefix}hen.png`, PNG);
      const [uploadJob = ''] = await dev.printed(/upload s3:\/\/\S+\/hen\.png → job (\S+) started/);
      await ended(uploadJob, 'COMPLETED');

      // Batch: a line with a presigned image, a plain one, and one that is not a request.
      const manifest = [
        JSON.stringify({ prompt: 'a fox from a batch', imageUrl, ...SMALL_JOB }),
        JSON.stringify({ prompt: 'a hen from a batch', ...SMALL_JOB }),
        JSON.stringify({ prompt: '', imageUrl }),
      ];
      await put(videosBucket, 'manifests/scheduled.jsonl', manifest.map((line) => `${line}\n`).join(''));
      const started = await fetch(`${control}/batches`, { method: 'POST' });
      expect(started.status).toBe(202);
      const { batchId } = (await started.json()) as { batchId: string };
      await dev.printed(new RegExp(`batch ${batchId} COMPLETED_WITH_FAILURES`));

      // Not vacuous: presigned URLs did travel through every entry point to Segmind, under this key …
      const { jobs } = (await (await fetch(`${emulator}${CONTROL_PREFIX}/jobs`)).json()) as {
        jobs: EmulatorJob[];
      };
      const signedImages = jobs.filter((job) => job.image?.includes('X-Amz-Signature='));
      expect(signedImages.length).toBeGreaterThanOrEqual(3); // API, upload, batch line
      const keys = [...new Set(jobs.map((job) => job.apiKey))];
      expect(keys).toHaveLength(1);
      const [apiKey = ''] = keys;
      expect(apiKey.length).toBeGreaterThan(8);

      dev.child.kill('SIGINT');
      const [code] = (await dev.exited) as [number | null];
      expect(code, dev.output).toBe(0);

      // … and the handlers did log the requests, job inputs and errors that carried them.
      expect(dev.output).toContain('"imageUrl"');
      expect(dev.output).toContain('images/fox.png');
      expect(dev.output).toContain(missingImageJob);
      const lines = dev.output.split('\n');
      expect(lines.length).toBeGreaterThan(100);
      const leaking = lines.filter(
        (line) => /X-Amz-Signature|X-Amz-Credential/i.test(line) || line.includes(apiKey),
      );
      expect(leaking).toEqual([]);
    } finally {
      s3.destroy();
    }
  });
});
