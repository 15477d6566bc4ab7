// The soak's judge on hand-made evidence: a clean run passes, and each way of breaking a promise fails
// exactly the invariant about it.
import { describe, expect, it } from 'vitest';
import type { VideoJob } from '#domain/video-job';
import type { RequestRecord, SubmitAttempt } from '#emulator/control';
import { judgeSoak, type SoakEvidence } from '#local/soak/invariants';
import { formatSoakTable } from '#local/soak/table';

const SHA = 'a'.repeat(64);
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

const job = (jobId: string, fields: Partial<VideoJob>): VideoJob => ({
  jobId,
  status: 'COMPLETED',
  source: 'api',
  request: {
    prompt: `prompt ${jobId}`,
    resolution: '1080p',
    duration: 6,
    generateAudio: true,
  } as VideoJob['request'],
  createdAt: at(0),
  updatedAt: at(10),
  ...fields,
});

const request = (requestId: string, prompt: string, fields: Partial<RequestRecord> = {}): RequestRecord => ({
  requestId,
  prompt,
  createdAt: at(0),
  answered: true,
  status: 'COMPLETED',
  billed: true,
  cost: 0.5,
  resultsServed: 1,
  downloads: 1,
  fullDownloads: 1,
  bytesDownloaded: 100,
  sha256: SHA,
  faults: {},
  ...fields,
});

const attempt = (prompt: string, requestId: string | null, fault: string | null = null): SubmitAttempt => ({
  prompt,
  requestId,
  fault,
  answered: fault === null,
  httpStatus: fault === null ? 200 : null,
});

/** One delivered job, one job Segmind created without answering (unknown), one the user cancelled. */
const cleanRun = (): SoakEvidence => ({
  timeScale: 100,
  deadlineSeconds: 3600,
  jobs: [
    job('done', {
      segmindRequestId: 'r-done',
      completedAt: at(10),
      video: {
        bucket: 'b',
        key: 'videos/2026/01/01/done.mp4',
        bytes: 100,
        sha256: SHA,
        contentType: 'video/mp4',
      },
    }),
    job('lost', {
      status: 'FAILED',
      submitState: 'UNKNOWN',
      errorCode: 'SubmitOutcomeUnknownError',
      failedAt: at(1),
    }),
    job('gone', { status: 'CANCELLED', segmindRequestId: 'r-gone', cancelledAt: at(5) }),
  ],
  startedJobIds: ['done', 'lost', 'gone'],
  cancelledByUser: ['gone'],
  requests: [
    request('r-done', 'prompt done'),
    request('r-lost', 'prompt lost', { answered: false, resultsServed: 0, fullDownloads: 0, sha256: null }),
    request('r-gone', 'prompt gone', { resultsServed: 0, fullDownloads: 0, sha256: null }),
  ],
  submits: [
    attempt('prompt done', null, 'rate-limit'),
    attempt('prompt done', 'r-done'),
    attempt('prompt lost', 'r-lost', 'reset-after-accept'),
    attempt('prompt gone', 'r-gone'),
  ],
  createdWithoutAnswer: 1,
  objects: [
    { key: 'videos/2026/01/01/done.mp4', size: 100, sha256: SHA },
    { key: 'manifests/x.jsonl', size: 9 },
  ],
  openMultipartUploads: [],
  events: [
    { detailType: 'Video Generation Succeeded', jobId: 'done' },
    { detailType: 'Video Generation Failed', jobId: 'lost' },
    { detailType: 'Video Generation Failed', jobId: 'gone' },
  ],
  logLeaks: [],
  logLines: 42,
});

const failedNames = (evidence: SoakEvidence): string[] =>
  judgeSoak(evidence)
    .invariants.filter((i) => !i.passed)
    .map((i) => i.name);

describe('judgeSoak', () => {
  it('passes a clean run, with the figures of the table', () => {
    const verdict = judgeSoak(cleanRun());
    expect(verdict.invariants.filter((i) => !i.passed)).toEqual([]);
    expect(verdict.passed).toBe(true);
    expect(verdict.figures).toEqual({
      jobs: 3,
      byStatus: { COMPLETED: 1, FAILED: 1, CANCELLED: 1 },
      bySource: { api: 3 },
      billed: 3,
      delivered: 1,
      billedUndelivered: 0,
      undeliveredCauses: {},
      billedCancelled: 1,
      unknownReported: 1,
      createdWithoutAnswer: 1,
      duplicates: 0,
    });
  });

  it('fails a job still running, or one that ended after its deadline', () => {
    const open = cleanRun();
    open.jobs[0] = { ...(open.jobs[0] as VideoJob), status: 'PROCESSING' };
    expect(failedNames(open)).toContain('every job terminal within its deadline');
    const late = cleanRun();
    // 40 real seconds at 100x are 4000 emulated seconds: past Segmind's hour.
    late.jobs[1] = { ...(late.jobs[1] as VideoJob), failedAt: at(40) };
    expect(failedNames(late)).toEqual(['every job terminal within its deadline']);
    // Retention runs from the submit: a job that queued 10 emulated minutes first still has its hour.
    const queued = cleanRun();
    queued.jobs[0] = { ...(queued.jobs[0] as VideoJob), submittedAt: at(6), completedAt: at(40) };
    expect(failedNames(queued)).toEqual([]);
    queued.jobs[0] = { ...(queued.jobs[0] as VideoJob), submittedAt: at(6), completedAt: at(43) };
    expect(judgeSoak(queued).invariants[0]?.detail).toContain(
      'done: COMPLETED at 4300 s (submitted at 600 s',
    );
  });

  it('fails a second Segmind job for one prompt, and a POST after a created one', () => {
    const twice = cleanRun();
    twice.requests.push(request('r-done-2', 'prompt done', { billed: false }));
    twice.submits.push(attempt('prompt done', 'r-done-2'));
    expect(failedNames(twice)).toEqual(['one Segmind job per job, no POST after a created one']);
    const repost = cleanRun();
    repost.submits.push(attempt('prompt lost', null, 'http-error'));
    const verdict = judgeSoak(repost);
    expect(verdict.invariants.find((i) => !i.passed)?.detail).toContain(
      '"prompt lost": 1 POST(s) after a created one',
    );
  });

  it('fails a COMPLETED job whose object is missing, doubled, or not the bytes Segmind served', () => {
    const missing = cleanRun();
    missing.objects = missing.objects.filter((o) => !o.key.startsWith('videos/'));
    expect(failedNames(missing)).toEqual(['every COMPLETED job has one object with the served sha256']);
    const other = cleanRun();
    other.objects[0] = { key: 'videos/2026/01/01/done.mp4', size: 100, sha256: 'b'.repeat(64) };
    expect(failedNames(other)).toEqual(['every COMPLETED job has one object with the served sha256']);
  });

  it('fails an object, a staging key or an open upload left for a job that did not complete', () => {
    for (const leftover of ['videos/2026/01/01/gone.mp4', 'staging/123/videos/2026/01/01/gone.mp4']) {
      const evidence = cleanRun();
      evidence.objects.push({ key: leftover, size: 1, sha256: SHA });
      expect(failedNames(evidence)).toEqual(['no object, upload or staging leftover']);
    }
    const upload = cleanRun();
    upload.openMultipartUploads = ['staging/1/videos/x.mp4 (abc)'];
    expect(failedNames(upload)).toEqual(['no object, upload or staging leftover']);
  });

  it("matches a job's video by its exact name: batch line 1 does not own line 11's object", () => {
    const evidence = cleanRun();
    evidence.jobs.push(
      job('b-11', {
        segmindRequestId: 'r-b-11',
        completedAt: at(10),
        video: {
          bucket: 'b',
          key: 'videos/2026/01/01/b-11.mp4',
          bytes: 100,
          sha256: SHA,
          contentType: 'video/mp4',
        },
      }),
    );
    evidence.jobs.push(job('b-1', { status: 'FAILED', errorCode: 'SegmindFailedError', failedAt: at(3) }));
    evidence.startedJobIds.push('b-11', 'b-1');
    evidence.requests.push(request('r-b-11', 'prompt b-11'));
    evidence.submits.push(attempt('prompt b-11', 'r-b-11'));
    evidence.objects.push({ key: 'videos/2026/01/01/b-11.mp4', size: 100, sha256: SHA });
    evidence.events.push(
      { detailType: 'Video Generation Succeeded', jobId: 'b-11' },
      { detailType: 'Video Generation Failed', jobId: 'b-1' },
    );
    expect(failedNames(evidence)).toEqual([]);
  });

  it('counts apart a job the user cancelled while its submit was unanswered', () => {
    const evidence = cleanRun();
    evidence.jobs[1] = {
      ...(evidence.jobs[1] as VideoJob),
      status: 'CANCELLED',
      submitState: 'IN_FLIGHT',
      errorCode: 'JobCancelledError',
    };
    evidence.cancelledByUser.push('lost');
    evidence.events[1] = { detailType: 'Video Generation Failed', jobId: 'lost' };
    const verdict = judgeSoak(evidence);
    expect(verdict.invariants.filter((i) => !i.passed)).toEqual([]);
    expect(verdict.figures).toMatchObject({ unknownReported: 0, createdWithoutAnswer: 1 });
  });

  it('fails a billed job the pipeline knew and dropped, by cause; a cancelled one is counted apart', () => {
    const evidence = cleanRun();
    evidence.jobs[0] = {
      ...(evidence.jobs[0] as VideoJob),
      status: 'FAILED',
      errorCode: 'SegmindRateLimitedError',
      video: undefined,
    } as VideoJob;
    evidence.objects = [];
    const verdict = judgeSoak(evidence);
    expect(verdict.invariants.filter((i) => !i.passed).map((i) => i.name)).toEqual([
      'every billed request id the pipeline knew is delivered',
    ]);
    expect(verdict.figures).toMatchObject({
      billedUndelivered: 1,
      undeliveredCauses: { 'FAILED SegmindRateLimitedError': 1 },
      billedCancelled: 1,
    });
  });

  it('fails when a job Segmind created without answering ended as a plain failure, or the counts differ', () => {
    const silent = cleanRun();
    silent.jobs[1] = {
      ...(silent.jobs[1] as VideoJob),
      submitState: 'NOT_CREATED',
      errorCode: 'SegmindServerError',
    };
    expect(failedNames(silent)).toEqual(['unknown submit outcomes reported as Segmind created them']);
    const counted = cleanRun();
    counted.createdWithoutAnswer = 2;
    expect(failedNames(counted)).toEqual(['unknown submit outcomes reported as Segmind created them']);
    // Reported unknown though Segmind answered: what it saw of the job's POSTs is in the detail.
    const over = cleanRun();
    over.jobs[0] = {
      ...(over.jobs[0] as VideoJob),
      status: 'FAILED',
      submitState: 'UNKNOWN',
      video: undefined,
    } as VideoJob;
    over.objects = [];
    const detail = judgeSoak(over).invariants.find((i) => i.name.startsWith('unknown submit'))?.detail;
    expect(detail).toContain(
      'done: reported unknown, but Segmind saw rate-limit/reset/unanswered, ok/200/created',
    );
  });

  it('takes any outcome event of the workflow as the completion, and ignores other events', () => {
    const evidence = cleanRun();
    evidence.events[2] = { detailType: 'Video Generation Cancelled', jobId: 'gone' };
    evidence.events.push({ detailType: 'Object Created', jobId: 'done' });
    expect(failedNames(evidence)).toEqual([]);
  });

  it('fails a terminal job with no completion event, or two', () => {
    const none = cleanRun();
    none.events = none.events.filter((e) => e.jobId !== 'gone');
    expect(failedNames(none)).toEqual(['exactly one completion event per terminal job']);
    const two = cleanRun();
    two.events.push({ detailType: 'Video Generation Succeeded', jobId: 'done' });
    expect(failedNames(two)).toEqual(['exactly one completion event per terminal job']);
  });

  it('fails on a leaked key or presigned URL', () => {
    const evidence = cleanRun();
    evidence.logLeaks = [{ kind: 'presigned-url', line: 'GET https://x/y?X-Amz-Signature=abc' }];
    expect(failedNames(evidence)).toEqual(['no API key or presigned URL in any log line']);
  });
});

describe('formatSoakTable', () => {
  it('prints the figures and one PASS/FAIL line per invariant', () => {
    const evidence = cleanRun();
    evidence.logLeaks = [{ kind: 'api-key', line: 'key SG_0123456789abcdef' }];
    const table = formatSoakTable(judgeSoak(evidence), {
      command: 'npm run soak -- --jobs 3',
      seed: 5,
      faultRate: 0.25,
      timeScale: 100,
      rateLimitPerMinute: 50,
      wallSeconds: 12.34,
      eventLoopDelayMs: { p99: 20, max: 90 },
      faultsByKind: { submit: { 'reset-after-accept': 1, 'rate-limit': 1 } },
      segmindRequests: 12,
    });
    expect(table).toContain('npm run soak -- --jobs 3');
    expect(table).toMatch(/event-loop delay p99 \/ max\s+20 \/ 90 ms \(2\.0 emulated s at p99\)/);
    expect(table).toMatch(/billed but undelivered\s+0/);
    expect(table).toMatch(/faults on submit\s+rate-limit 1, reset-after-accept 1/);
    expect(table).toMatch(/unknown submit outcomes \(reported \/ emulator\)\s+1 \/ 1/);
    expect(table.match(/^ {2}PASS /gm)).toHaveLength(7);
    expect(table).toContain('FAIL  no API key or presigned URL in any log line');
    expect(table).toContain('Soak FAILED: 1 invariant(s) broken.');
  });
});
