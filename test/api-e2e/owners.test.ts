// Callers own their jobs, end to end over HTTP on the local stack: the local API with two API keys (as the
// stack's api-key mode on AWS). Each key sees only its own jobs: get and cancel answer 404 for the other's
// job — the same answer as for a job that does not exist — and the list shows only its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_HEADER, type LocalApi, localApiHandlers, startLocalApi } from '#local/api-server';
import {
  ApiClient,
  type ApiStack,
  errorOf,
  jobIdOf,
  SMALL_JOB,
  startApiStack,
} from '#test/api-e2e/support/api-stack';

const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-9876543210';

/** A client that sends one API key with every request. */
class KeyedClient extends ApiClient {
  constructor(
    url: string,
    readonly key: string | undefined,
  ) {
    super(url);
  }
  override request(
    method: string,
    path: string,
    options: { json?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ) {
    return super.request(method, path, {
      ...options,
      headers: { ...(this.key === undefined ? {} : { [API_KEY_HEADER]: this.key }), ...options.headers },
    });
  }
}

let env: ApiStack;
let keyed: LocalApi;
let alice: KeyedClient;
let bob: KeyedClient;

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  keyed = await startLocalApi({
    handlers: await localApiHandlers({ workflow: env.stack.workflow, events: env.stack.events }),
    apiKeys: [ALICE, BOB],
  });
  alice = new KeyedClient(keyed.url, ALICE);
  bob = new KeyedClient(keyed.url, BOB);
});
afterAll(async () => {
  await keyed?.stop();
  await env?.stop();
});

const VALID = { prompt: 'a red fox running through snow', ...SMALL_JOB };

describe('with API keys, each caller owns its jobs', () => {
  it('refuses a request without a known key with the same JSON 403, whatever the key', async () => {
    for (const client of [
      new KeyedClient(keyed.url, undefined),
      new KeyedClient(keyed.url, 'wrong-key-000000'),
    ]) {
      const before = env.stack.workflow.list().length;
      const response = await client.create(VALID);
      expect(response.status).toBe(403);
      expect(errorOf(response)).toMatchObject({ code: 'FORBIDDEN', message: 'Forbidden' });
      expect((await client.list()).status).toBe(403);
      expect(env.stack.workflow.list().length).toBe(before);
    }
  });

  it("gets, lists and cancels only its own: the other's job is a 404, exactly as a missing one", async () => {
    const aliceJob = jobIdOf(await alice.create({ ...VALID, prompt: 'alice: a red fox' }));
    const bobJob = jobIdOf(await bob.create({ ...VALID, prompt: 'bob: a grey wolf' }));
    // The same Idempotency-Key from two callers makes two jobs: keys are scoped by caller.
    const aliceKeyed = jobIdOf(await alice.create(VALID, { 'Idempotency-Key': 'same-key' }));
    const bobKeyed = jobIdOf(await bob.create(VALID, { 'Idempotency-Key': 'same-key' }));
    expect(aliceKeyed).not.toBe(bobKeyed);

    expect((await alice.get(aliceJob)).status).toBe(200);
    const foreign = await alice.get(bobJob);
    const missing = await alice.get('no-such-job');
    expect(foreign.status).toBe(404);
    expect(errorOf(foreign).code).toBe('NotFound');
    expect(errorOf(foreign).message).toBe(`there is no job ${bobJob}`);
    expect(errorOf(missing).message).toBe('there is no job no-such-job');

    const cancelForeign = await alice.cancel(bobJob);
    expect(cancelForeign.status).toBe(404);
    expect(errorOf(cancelForeign).code).toBe('NotFound');
    const bobView = await bob.get(bobJob);
    expect(bobView.status).toBe(200);
    expect(bobView.body.status).not.toBe('CANCELLED');

    const listed = async (client: KeyedClient) => {
      const response = await client.list({ limit: '100' });
      expect(response.status).toBe(200);
      return (response.body.items as { jobId: string }[]).map((item) => item.jobId).sort();
    };
    await expect.poll(() => listed(alice)).toEqual([aliceJob, aliceKeyed].sort());
    await expect.poll(() => listed(bob)).toEqual([bobJob, bobKeyed].sort());

    // Its own job is found by cancel: cancelled, or 409 if it already ended at this time scale.
    expect([200, 409]).toContain((await alice.cancel(aliceJob)).status);
  });

  it('records the owner as the key id, never the key', async () => {
    const jobId = jobIdOf(await alice.create({ ...VALID, prompt: 'owner check' }));
    const record = await env.stack.jobs.get(jobId);
    expect(record?.owner).toMatch(/^api-key:local-[0-9a-f]{16}$/);
    expect(JSON.stringify(record)).not.toContain(ALICE);
  });
});

describe('without keys, the local API has one user', () => {
  it('who sees every job, its own and the keyed callers alike', async () => {
    const open = env.client;
    const own = jobIdOf(await open.create({ ...VALID, prompt: 'the local user' }));
    const aliceJob = jobIdOf(await alice.create({ ...VALID, prompt: 'alice again' }));
    expect((await open.get(aliceJob)).status).toBe(200);
    expect((await alice.get(own)).status).toBe(404);
  });
});
