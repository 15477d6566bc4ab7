// The three kinds of submit outcome, through the local API with the emulator's faults: a refusal Segmind
// states itself is retried and the job completes with one paid job; an answer lost after Segmind accepted
// (a reset, a proxy's 502 page) is never POSTed again — the job ends SUBMIT_OUTCOME_UNKNOWN and its view
// says plainly that Segmind may have billed it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TERMINAL_STATUSES } from '#domain/video-job';
import type { Fault } from '#emulator/control';
import {
  type ApiClient,
  type ApiStack,
  jobIdOf,
  SMALL_JOB,
  startApiStack,
} from '#test/api-e2e/support/api-stack';
import { emulatorOf, videoKeysOf } from '#test/workflow/support/local-stack';

let env: ApiStack;
let api: ApiClient;

beforeAll(async () => {
  env = await startApiStack({ timeScale: 100 });
  api = env.client;
});
afterAll(() => env?.stop());

beforeEach(async () => {
  await env.stack.workflow.idle();
  emulatorOf(env.stack).control.reset();
});

describe('a submit whose answer was lost after Segmind accepted it', () => {
  it.each<[string, Fault]>([
    ['a reset after accept', { endpoint: 'submit', kind: 'reset-after-accept' }],
    [
      'a 502 page after accept',
      { endpoint: 'submit', kind: 'error-after-accept', status: 502, body: 'html' },
    ],
    [
      'an empty 503 after accept',
      { endpoint: 'submit', kind: 'error-after-accept', status: 503, body: 'empty' },
    ],
  ])('%s: one POST, SUBMIT_OUTCOME_UNKNOWN, "may have billed" in the view', async (_label, fault) => {
    const control = emulatorOf(env.stack).control;
    control.injectFault(fault);

    const jobId = jobIdOf(
      await api.create({ prompt: `a fox whose submit is lost (${fault.kind})`, ...SMALL_JOB }),
    );
    const view = await api.waitForStatus(jobId, TERMINAL_STATUSES);

    expect(view.status).toBe('FAILED');
    expect(view.error).toMatchObject({
      code: 'SUBMIT_OUTCOME_UNKNOWN',
      message: expect.stringMatching(/^Segmind may have billed this job/),
    });
    expect(view.segmindRequestId).toBeUndefined();
    // Segmind did create (and will bill) the one job; there is no second.
    const counters = control.counters();
    expect(counters.byEndpoint.submit).toBe(1);
    expect(counters.jobsCreated).toBe(1);
    expect(await videoKeysOf(env.stack, jobId)).toEqual([]);
  });
});

describe('a submit Segmind itself refused', () => {
  it('a 503 in Segmind’s JSON shape is retried: COMPLETED, two POSTs, one paid job', async () => {
    const control = emulatorOf(env.stack).control;
    control.injectFault({ endpoint: 'submit', kind: 'http-error', status: 503, body: 'json' });

    const jobId = jobIdOf(await api.create({ prompt: 'a fox refused once', ...SMALL_JOB }));
    const view = await api.waitForStatus(jobId, TERMINAL_STATUSES);

    expect(view.status).toBe('COMPLETED');
    expect(view.error).toBeUndefined();
    expect(control.counters().byEndpoint.submit).toBe(2);
    expect(control.counters().jobsCreated).toBe(1);
  });
});
