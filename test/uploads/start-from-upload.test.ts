// The upload Lambda's module: its configuration, read once at start-up, and the thin handler around the
// use case.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import { DEFAULT_UPLOAD_POLICY } from '#domain/upload-job';
import { InMemoryJobStore } from '#test/support/workflow-fakes';
import { FakeUploads, IMAGE_BYTES, RecordingWorkflow, upload } from '#test/uploads/support/fake-uploads';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:VideoJob';

beforeEach(() => {
  vi.stubEnv(ENV.jobsTable, 'jobs-table');
  vi.stubEnv(ENV.stateMachineArn, STATE_MACHINE_ARN);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

const load = () => import('#functions/start-from-upload');

/** Modules are reloaded per test, so the error is recognised by its stable name, not its class. */
const configError = expect.objectContaining({ name: 'ConfigError' });

describe('parseUploadPolicy', () => {
  it('defaults to uploads/, 10 MiB and a one-hour URL', async () => {
    const { parseUploadPolicy } = await load();
    expect(parseUploadPolicy({})).toEqual(DEFAULT_UPLOAD_POLICY);
    expect(DEFAULT_UPLOAD_POLICY).toEqual({
      prefix: 'uploads/',
      maxImageBytes: 10 * 1024 * 1024,
      imageUrlTtlSeconds: 3600,
    });
  });

  it('reads the values the construct sets', async () => {
    const { parseUploadPolicy } = await load();
    expect(
      parseUploadPolicy({
        [ENV.uploadsPrefix]: 'inbox/',
        [ENV.uploadMaxImageBytes]: '2048',
        [ENV.uploadImageUrlTtlSeconds]: '900',
      }),
    ).toEqual({ prefix: 'inbox/', maxImageBytes: 2048, imageUrlTtlSeconds: 900 });
  });

  it.each([
    [ENV.uploadsPrefix, 'uploads'],
    [ENV.uploadsPrefix, '/uploads/'],
    [ENV.uploadMaxImageBytes, '10MB'],
    [ENV.uploadMaxImageBytes, '0'],
    [ENV.uploadImageUrlTtlSeconds, '60'],
    [ENV.uploadImageUrlTtlSeconds, String(8 * 24 * 3600)],
  ])('refuses %s=%s', async (name, value) => {
    const { parseUploadPolicy } = await load();
    expect(() => parseUploadPolicy({ [name]: value })).toThrow(configError);
  });

  it('fails the function at start-up, not on the first upload, when the configuration is wrong', async () => {
    vi.stubEnv(ENV.uploadImageUrlTtlSeconds, 'an hour');
    await expect(load()).rejects.toEqual(configError);
    vi.resetModules();
    vi.stubEnv(ENV.uploadImageUrlTtlSeconds, '');
    vi.stubEnv(ENV.stateMachineArn, '');
    await expect(load()).rejects.toThrow(/STATE_MACHINE_ARN/);
  });
});

describe('uploadEventHandler', () => {
  it('hands the event to the use case and returns what came of it', async () => {
    const { uploadEventHandler, handler } = await load();
    expect(handler).toEqual(expect.any(Function));
    const uploads = new FakeUploads();
    const jobs = new InMemoryJobStore();
    const workflow = new RecordingWorkflow();
    const handle = uploadEventHandler(
      { jobs, workflow, objects: uploads, now: () => new Date('2030-01-01T00:00:00Z') },
      DEFAULT_UPLOAD_POLICY,
    );
    upload(uploads, 'uploads/cat.png.json', '{"prompt":"a cat"}');

    const outcome = await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));

    expect(outcome).toMatchObject({ action: 'started' });
    expect(workflow.started).toHaveLength(1);
    await expect(handle({ hello: 'world' })).rejects.toMatchObject({ name: 'InvalidUploadEventError' });
  });
});
