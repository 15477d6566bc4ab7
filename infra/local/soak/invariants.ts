// The soak's promises, checked from what the run left behind: the job table, the videos bucket, the
// emulator's own counters, the events published and the log lines written. Pure: the driver gathers the
// evidence, this module only judges it, so each rule is unit-tested on hand-made evidence.
import type { JobStatus, VideoJob } from '#domain/video-job';
import { isTerminal } from '#domain/video-job';
import type { RequestRecord, SubmitAttempt } from '#emulator/control';

/** An object in the videos bucket; `sha256` of its bytes for keys under the videos prefix. */
export interface StoredObject {
  key: string;
  size: number;
  sha256?: string;
}

export interface LogLeak {
  kind: 'api-key' | 'presigned-url';
  line: string;
}

export interface SoakEvidence {
  /** Emulated seconds per real second: the deadline is in Segmind's (emulated) time. */
  timeScale: number;
  /** A job must be terminal this many emulated seconds after it was created (Segmind's retention). */
  deadlineSeconds: number;
  /** Every record of the job table. */
  jobs: VideoJob[];
  /** Jobs the soak started (API, uploads, batch lines), whether or not a record exists. */
  startedJobIds: string[];
  /** Jobs the user cancelled (the API accepted the DELETE). */
  cancelledByUser: string[];
  requests: RequestRecord[];
  submits: SubmitAttempt[];
  /** Jobs Segmind created whose submit answer never reached the pipeline, per the emulator. */
  createdWithoutAnswer: number;
  objects: StoredObject[];
  /** Multipart uploads still open in the videos bucket (key and id). */
  openMultipartUploads: string[];
  /** Every event published, as detail type and job id. */
  events: Array<{ detailType: string; jobId: string | undefined }>;
  logLeaks: LogLeak[];
  /** Log lines scanned for leaks. */
  logLines: number;
}

export interface InvariantResult {
  name: string;
  passed: boolean;
  /** One line: what was counted, and the first few offenders. */
  detail: string;
}

export interface SoakFigures {
  jobs: number;
  byStatus: Partial<Record<JobStatus, number>>;
  bySource: Record<string, number>;
  billed: number;
  delivered: number;
  /** Billed, known to the pipeline, not delivered, not cancelled by the user; by cause (error code). */
  billedUndelivered: number;
  undeliveredCauses: Record<string, number>;
  /** Billed and then cancelled by the user: counted apart. */
  billedCancelled: number;
  unknownReported: number;
  createdWithoutAnswer: number;
  /** Prompts Segmind created more than one job for. */
  duplicates: number;
}

export interface SoakVerdict {
  figures: SoakFigures;
  invariants: InvariantResult[];
  passed: boolean;
}

export const VIDEO_PREFIX = 'videos/';
export const STAGING_PREFIX = 'staging/';
/** The workflow's outcome events share this prefix (Succeeded, Failed, and any other ending it publishes). */
export const COMPLETION_EVENT_PREFIX = 'Video Generation ';
const SHOWN = 3;

const isUnknownOutcome = (job: VideoJob): boolean =>
  job.submitState === 'UNKNOWN' ||
  job.errorCode === 'SUBMIT_OUTCOME_UNKNOWN' ||
  job.errorCode === 'SubmitOutcomeUnknownError';

const endedAt = (job: VideoJob): string =>
  job.completedAt ?? job.failedAt ?? job.cancelledAt ?? job.updatedAt;

const result = (name: string, offenders: string[], counted: string): InvariantResult => ({
  name,
  passed: offenders.length === 0,
  detail:
    offenders.length === 0
      ? counted
      : `${offenders.length} broken (${counted}): ${offenders.slice(0, SHOWN).join('; ')}${offenders.length > SHOWN ? '; …' : ''}`,
});

const countBy = <T>(items: readonly T[], key: (item: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

/** Judges a soak run. Jobs and Segmind requests are matched by prompt: the soak gives each job its own. */
export const judgeSoak = (evidence: SoakEvidence): SoakVerdict => {
  const jobsById = new Map(evidence.jobs.map((job) => [job.jobId, job]));
  const started = evidence.startedJobIds.flatMap((id) => jobsById.get(id) ?? []);
  const cancelled = new Set(evidence.cancelledByUser);
  const requestsByPrompt = new Map<string, RequestRecord[]>();
  for (const request of evidence.requests) {
    requestsByPrompt.set(request.prompt, [...(requestsByPrompt.get(request.prompt) ?? []), request]);
  }
  const requestById = new Map(evidence.requests.map((r) => [r.requestId, r]));
  const jobByRequestId = new Map(
    evidence.jobs.flatMap((job) => (job.segmindRequestId ? [[job.segmindRequestId, job] as const] : [])),
  );
  const jobByPrompt = new Map(evidence.jobs.map((job) => [job.request.prompt, job]));
  const videoObjects = evidence.objects.filter((o) => o.key.startsWith(VIDEO_PREFIX));
  // A job's video is `…/<jobId>.mp4` (staged under `staging/<id>/…` first): an exact name, since batch
  // line ids are prefixes of one another (`…-1`, `…-11`).
  const isJobsKey = (key: string, jobId: string) => key.endsWith(`/${jobId}.mp4`);
  const objectsOf = (jobId: string) => videoObjects.filter((o) => isJobsKey(o.key, jobId));
  const stagedFor = (jobId: string) =>
    evidence.objects.filter((o) => o.key.startsWith(STAGING_PREFIX) && isJobsKey(o.key, jobId));

  // 1. Every job terminal, within Segmind's retention (emulated time). Retention runs from the submit (a
  // job may queue for its rate budget first, by design); a job that never submitted counts from creation.
  const lateOrOpen = evidence.startedJobIds.flatMap((id) => {
    const job = jobsById.get(id);
    if (job === undefined) return [`${id}: no record`];
    if (!isTerminal(job.status)) return [`${id}: still ${job.status}`];
    const emulated = (instant: string | undefined): number | undefined =>
      instant === undefined
        ? undefined
        : Math.round(((Date.parse(instant) - Date.parse(job.createdAt)) / 1000) * evidence.timeScale);
    const ended = emulated(endedAt(job)) ?? 0;
    const submitted = emulated(job.submittedAt);
    if (ended - (submitted ?? 0) <= evidence.deadlineSeconds) return [];
    // Where the time went, so the cause can be routed: before the submit, or after it.
    const storing = emulated(job.storingAt);
    return [
      `${id}: ${job.status} at ${ended} s (submitted at ${submitted ?? '-'} s, deadline ${evidence.deadlineSeconds} s after; storing at ${storing ?? '-'} s, ${job.pollCount ?? 0} polls)`,
    ];
  });

  // 2. One Segmind job per pipeline job, and no POST after one that created a job.
  const duplicatePrompts = [...requestsByPrompt].filter(([, requests]) => requests.length > 1);
  const postsAfterCreated = Object.entries(
    countBy(
      evidence.submits.filter((attempt, index) =>
        evidence.submits
          .slice(0, index)
          .some((earlier) => earlier.prompt === attempt.prompt && earlier.requestId !== null),
      ),
      (attempt) => attempt.prompt ?? '(no prompt)',
    ),
  );
  const mismatchedIds = evidence.jobs.flatMap((job) => {
    if (job.segmindRequestId === undefined) return [];
    const request = requestById.get(job.segmindRequestId);
    return request === undefined || request.prompt !== job.request.prompt
      ? [`${job.jobId}: request id ${job.segmindRequestId} is not this job's at Segmind`]
      : [];
  });
  const duplicateOffenders = [
    ...duplicatePrompts.map(([prompt, requests]) => `"${prompt}": ${requests.length} Segmind jobs`),
    ...postsAfterCreated.map(([prompt, n]) => `"${prompt}": ${n} POST(s) after a created one`),
    ...mismatchedIds,
  ];

  // 3. A COMPLETED job has exactly one object, whose bytes are what Segmind served.
  const completedOffenders = started.flatMap((job) => {
    if (job.status !== 'COMPLETED') return [];
    const objects = objectsOf(job.jobId);
    if (objects.length !== 1) return [`${job.jobId}: ${objects.length} objects`];
    const [object] = objects;
    const served = job.segmindRequestId ? requestById.get(job.segmindRequestId)?.sha256 : undefined;
    if (served === undefined || served === null) return [`${job.jobId}: Segmind never served its file whole`];
    if (object?.sha256 !== served)
      return [`${job.jobId}: object sha256 ${object?.sha256} ≠ served ${served}`];
    if (job.video?.sha256 !== served) return [`${job.jobId}: record sha256 ${job.video?.sha256} ≠ served`];
    return [];
  });

  // 4. Nothing stored for a job that did not complete; no open upload, no staging leftover.
  const leftoverOffenders = [
    ...evidence.jobs.flatMap((job) =>
      job.status !== 'COMPLETED' && objectsOf(job.jobId).length > 0
        ? [
            `${job.jobId}: ${job.status} with ${objectsOf(job.jobId)
              .map((o) => o.key)
              .join(', ')}`,
          ]
        : [],
    ),
    ...evidence.jobs.flatMap((job) => stagedFor(job.jobId).map((o) => `${job.jobId}: staging ${o.key}`)),
    ...evidence.objects
      .filter(
        (o) => o.key.startsWith(STAGING_PREFIX) && !evidence.jobs.some((job) => isJobsKey(o.key, job.jobId)),
      )
      .map((o) => `staging ${o.key}`),
    ...evidence.openMultipartUploads.map((upload) => `open multipart upload ${upload}`),
  ];

  // 5. Every request id the pipeline knew that Segmind completed (billed) is delivered.
  const billed = evidence.requests.filter((r) => r.billed);
  const billedKnown = billed.flatMap((r) => {
    const job = jobByRequestId.get(r.requestId);
    return job === undefined ? [] : [{ request: r, job }];
  });
  const delivered = billedKnown.filter(({ job }) => job.status === 'COMPLETED');
  const billedCancelled = billedKnown.filter(
    ({ job }) => job.status !== 'COMPLETED' && cancelled.has(job.jobId),
  );
  const undelivered = billedKnown.filter(
    ({ job }) => job.status !== 'COMPLETED' && !cancelled.has(job.jobId),
  );
  const undeliveredCauses = countBy(undelivered, ({ job }) => `${job.status} ${job.errorCode ?? ''}`.trim());

  // 6. Unknown submit outcomes: each job Segmind created without answering ended "unknown", and the
  // pipeline reports as many as the emulator counts. A job the user cancelled while its submit was
  // unanswered ends CANCELLED, as asked: counted apart.
  const unknownJobs = evidence.jobs.filter(isUnknownOutcome);
  const unanswered = evidence.requests.filter((r) => !r.answered);
  const unansweredCancelled = unanswered.filter((r) => {
    const job = jobByPrompt.get(r.prompt);
    return job !== undefined && !isUnknownOutcome(job) && cancelled.has(job.jobId);
  });
  const expectedUnknown = evidence.createdWithoutAnswer - unansweredCancelled.length;
  const unknownOffenders = [
    ...unanswered.flatMap((r) => {
      const job = jobByPrompt.get(r.prompt);
      if (job === undefined) return [`request ${r.requestId}: no job has its prompt`];
      return isUnknownOutcome(job) || job.segmindRequestId === r.requestId || cancelled.has(job.jobId)
        ? []
        : [`${job.jobId}: created without an answer, ended ${job.status} ${job.errorCode ?? ''}`.trim()];
    }),
    // Reported unknown, yet Segmind answered every job it created for this prompt (or created none): say
    // what Segmind saw of its POSTs, so the cause can be routed.
    ...unknownJobs.flatMap((job) => {
      const requests = requestsByPrompt.get(job.request.prompt) ?? [];
      if (requests.some((r) => !r.answered)) return [];
      const posts = evidence.submits
        .filter((a) => a.prompt === job.request.prompt)
        .map(
          (a) =>
            `${a.fault ?? 'ok'}/${a.httpStatus ?? 'reset'}${a.requestId ? '/created' : ''}${a.answered ? '' : '/unanswered'}`,
        );
      return [`${job.jobId}: reported unknown, but Segmind saw ${posts.join(', ') || 'no POST'}`];
    }),
    ...(unknownJobs.length === expectedUnknown
      ? []
      : [
          `${unknownJobs.length} reported unknown ≠ ${expectedUnknown} created without an answer and not cancelled`,
        ]),
  ];

  // 7. Exactly one completion event per terminal job.
  const completionEvents = countBy(
    evidence.events.filter((e) => e.detailType.startsWith(COMPLETION_EVENT_PREFIX)),
    (e) => e.jobId ?? '(none)',
  );
  const eventOffenders = started.flatMap((job) => {
    const n = completionEvents[job.jobId] ?? 0;
    return isTerminal(job.status) && n !== 1 ? [`${job.jobId} (${job.status}): ${n} events`] : [];
  });

  // 8. No API key or presigned URL in any log line.
  const leakOffenders = evidence.logLeaks.map((leak) => `${leak.kind}: ${leak.line.slice(0, 160)}`);

  const invariants = [
    result('every job terminal within its deadline', lateOrOpen, `${evidence.startedJobIds.length} jobs`),
    result(
      'one Segmind job per job, no POST after a created one',
      duplicateOffenders,
      `${evidence.submits.length} POSTs, ${evidence.requests.length} Segmind jobs`,
    ),
    result(
      'every COMPLETED job has one object with the served sha256',
      completedOffenders,
      `${started.filter((j) => j.status === 'COMPLETED').length} COMPLETED`,
    ),
    result('no object, upload or staging leftover', leftoverOffenders, `${evidence.objects.length} objects`),
    result(
      'every billed request id the pipeline knew is delivered',
      undelivered.map(({ job }) => `${job.jobId}: ${job.status} ${job.errorCode ?? ''}`.trim()),
      `${billedKnown.length} billed and known, ${billedCancelled.length} cancelled apart`,
    ),
    result(
      'unknown submit outcomes reported as Segmind created them',
      unknownOffenders,
      `${unknownJobs.length} reported, ${evidence.createdWithoutAnswer} created without an answer, ${unansweredCancelled.length} of them cancelled`,
    ),
    result(
      'exactly one completion event per terminal job',
      eventOffenders,
      `${evidence.events.length} events`,
    ),
    result('no API key or presigned URL in any log line', leakOffenders, `${evidence.logLines} log lines`),
  ];

  const figures: SoakFigures = {
    jobs: evidence.startedJobIds.length,
    byStatus: countBy(started, (job) => job.status) as Partial<Record<JobStatus, number>>,
    bySource: countBy(started, (job) => job.source),
    billed: billed.length,
    delivered: delivered.length,
    billedUndelivered: undelivered.length,
    undeliveredCauses,
    billedCancelled: billedCancelled.length,
    unknownReported: unknownJobs.length,
    createdWithoutAnswer: evidence.createdWithoutAnswer,
    duplicates: duplicatePrompts.length,
  };
  return { figures, invariants, passed: invariants.every((i) => i.passed) };
};
