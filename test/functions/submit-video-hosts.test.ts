// The video download's allow list is configuration the Submit Lambda checks at load: a setting StoreVideo
// could not use stops the job before Segmind is asked (and bills), not after the video is ready.
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '#commons/env';
import type { RunningEmulator } from '#emulator/control';
import { startEmulator } from '#emulator/index';
import { stubHandlerEnv } from '#test/support/handler-env';
import { type JobsTable, startJobsTable } from '#test/support/jobs-table';
import { DEFAULT_REQUEST, pendingJob } from '#test/support/workflow-fakes';

let table: JobsTable;
let emulator: RunningEmulator;

beforeAll(async () => {
  [table, emulator] = await Promise.all([startJobsTable(), startEmulator({ seed: 7 })]);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([table?.close(), emulator?.stop()]);
});

const context = {
  functionName: 'Submit',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

describe('Submit with an unusable LTX_ALLOWED_VIDEO_HOSTS', () => {
  it('fails its cold start, naming the variable, and Segmind never sees a submit', async () => {
    stubHandlerEnv(table, {
      [ENV.segmindBaseUrl]: emulator.url,
      [ENV.segmindApiKey]: emulator.apiKeys[0] ?? '',
      // A host without a port: the download would refuse to start, after the job was paid for.
      [ENV.allowedVideoHosts]: 'files.proxy.example',
    });
    await table.putJob(pendingJob('bad-config-1'));

    // As Lambda would: load the module, then invoke what it exports.
    const outcome = await import('#functions/submit').then(
      async ({ handler }) => handler({ jobId: 'bad-config-1', request: DEFAULT_REQUEST }, context),
      (error: unknown) => error,
    );

    expect(outcome).toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/LTX_ALLOWED_VIDEO_HOSTS/),
    });
    expect(emulator.control.counters().byEndpoint.submit).toBe(0);
    expect(await table.getJob('bad-config-1')).toMatchObject({ status: 'PENDING' });
  });
});
