// Image URLs that point inside the network, over real HTTP on the local stack: each one is a 400 naming
// `imageUrl`, and nothing was started — no record, no execution, no Segmind submit, no fetch.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENV } from '#commons/env';
import type { VideoWorkflow } from '#domain/start-job';
import type { VideoJobInput } from '#domain/video-job';
import { type LocalApi, localApiHandlers, startLocalApi } from '#local/api-server';
import {
  ApiClient,
  type ApiStack,
  errorOf,
  SMALL_JOB,
  startApiStack,
  startCounters,
} from '#test/api-e2e/support/api-stack';
import { type StubServer, startStub } from '#test/segmind/support/stub-server';
import { fakeDns, HOSTILE_URLS, PUBLIC_URLS } from '#test/support/hostile-urls';

let env: ApiStack;
/** The same API, its handlers resolving image hosts with the test's DNS. */
let api: ApiClient;
let localApi: LocalApi;
/** The same handlers again, on a workflow that only records what it was asked to start. */
let recorded: ApiClient;
let recordingApi: LocalApi;
const started: VideoJobInput[] = [];
/** A local server that is not on the allow list: what the issue saw the local stack fetch. */
let inside: StubServer;
let before: ReturnType<typeof startCounters>;

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  localApi = await startLocalApi({
    handlers: await localApiHandlers({
      workflow: env.stack.workflow,
      events: env.stack.events,
      resolveHost: fakeDns,
    }),
  });
  api = new ApiClient(localApi.url);
  const recording: VideoWorkflow = {
    start: async (input) => {
      started.push(input);
      return 'started';
    },
    stop: async () => 'not-running',
  };
  recordingApi = await startLocalApi({
    handlers: await localApiHandlers({ workflow: recording, events: env.stack.events, resolveHost: fakeDns }),
  });
  recorded = new ApiClient(recordingApi.url);
  inside = await startStub((_request, response) => response.writeHead(200).end('secret'));
});
afterAll(async () => {
  await Promise.all([localApi?.stop(), recordingApi?.stop(), inside?.close()]);
  await env?.stop();
});
beforeEach(() => {
  before = startCounters(env.stack);
});

const body = (imageUrl: string) => ({ prompt: 'a red fox running through snow', ...SMALL_JOB, imageUrl });

describe('POST /videos with a hostile imageUrl', () => {
  it.each(HOSTILE_URLS)('refuses $url ($form): 400 naming imageUrl, nothing started', async ({ url }) => {
    const response = await api.create(body(url));
    expect(response.status, response.text).toBe(400);
    const error = errorOf(response);
    expect(error.code).toBe('ValidationError');
    expect(error.fields?.map((f) => f.field)).toEqual(['imageUrl']);
    expect(error.fields?.[0]?.message).toMatch(/^imageUrl /);
    // The answer names what is wrong, never the credentials it was sent.
    expect(response.text).not.toMatch(/user:pass|user@|:pass@/);
    expect(startCounters(env.stack)).toEqual(before);
  });

  it('refuses a local server that is not on the allow list, without fetching it (with the system DNS too)', async () => {
    for (const client of [api, env.client]) {
      const response = await client.create(body(`${inside.url}/x.png`));
      expect(response.status, response.text).toBe(400);
      expect(errorOf(response).fields?.[0]).toMatchObject({
        field: 'imageUrl',
        message: 'imageUrl must use https',
      });
    }
    expect(inside.requests).toEqual([]);
    expect(startCounters(env.stack)).toEqual(before);
  });
});

describe('POST /videos with an acceptable imageUrl', () => {
  const accepted = async (url: string): Promise<void> => {
    const response = await recorded.create(body(url));
    expect(response.status, response.text).toBe(202);
    expect(started.at(-1)?.request.imageUrl).toBe(url);
  };

  it.each(PUBLIC_URLS)('accepts %s (202)', accepted);

  it('accepts the local s3rver, by configuration, over http', async () => {
    const s3Host = process.env[ENV.allowedImageHosts];
    expect(s3Host).toBe(new URL(env.stack.s3.endpoint).host);
    await accepted(`http://${s3Host}/${env.stack.s3.uploadsBucket}/cat.png`);
  });
});
