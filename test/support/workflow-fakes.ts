// Fakes for the workflow's use-case tests: an in-memory JobStore with the DynamoDB adapter's semantics
// (test/adapters/job-store.test.ts runs the same contract against both), a scripted Segmind, and a
// clock that only moves when told to.
import { createJobClock, type JobClock } from '#commons/clock';
import type { CancelOutcome, JobCanceller } from '#domain/cancel-job';
import { JobCancelledError, JobStateError } from '#domain/errors';
import type { JobProgress, JobStore, RecordedError, SubmitClaim, TerminalFailure } from '#domain/job-store';
import {
  isTerminal,
  type JobStatus,
  type JobWaiting,
  type RateBudgetWait,
  type SegmindMetrics,
  type SubmittedJob,
  type VideoJob,
} from '#domain/video-job';
import type { VideoRequest } from '#domain/video-request';
import type {
  ResultReport,
  SegmindApi,
  SegmindVideoRequest,
  StatusReport,
  SubmitAccepted,
} from '#segmind/types';

const FORWARD_FROM: Record<'QUEUED' | 'PROCESSING', readonly JobStatus[]> = {
  QUEUED: ['PENDING', 'QUEUED'],
  PROCESSING: ['PENDING', 'QUEUED', 'PROCESSING'],
};

const submittedOf = (job: VideoJob): SubmittedJob | undefined =>
  job.segmindRequestId === undefined
    ? undefined
    : {
        requestId: job.segmindRequestId,
        statusUrl: job.statusUrl ?? job.segmindRequestId,
        responseUrl: job.responseUrl ?? job.segmindRequestId,
        submittedAt: job.submittedAt ?? job.updatedAt,
      };

type Method = keyof JobStore | 'cancel';

/** Every method reads and writes synchronously between awaits, so each call is atomic like one DynamoDB write. */
export class InMemoryJobStore implements JobStore, JobCanceller {
  readonly items = new Map<string, VideoJob>();
  /** Successful writes, in order, as `method:jobId`. */
  readonly writes: string[] = [];
  readonly #failNext = new Map<Method, unknown>();

  /** The next call of `method` throws `error` (as if DynamoDB failed) and writes nothing. */
  failNext(method: Method, error: unknown = new Error('DynamoDB is unavailable')): void {
    this.#failNext.set(method, error);
  }

  put(job: VideoJob): void {
    this.items.set(job.jobId, structuredClone(job));
  }

  peek(jobId: string): VideoJob | undefined {
    const job = this.items.get(jobId);
    return job === undefined ? undefined : structuredClone(job);
  }

  #check(method: Method): void {
    if (this.#failNext.has(method)) {
      const error = this.#failNext.get(method);
      this.#failNext.delete(method);
      throw error;
    }
  }

  #write(
    method: Method,
    job: VideoJob,
    changes: Partial<VideoJob>,
    remove: (keyof VideoJob)[] = [],
  ): VideoJob {
    const next: VideoJob = { ...job, ...structuredClone(changes) };
    for (const key of remove) delete next[key];
    this.items.set(job.jobId, next);
    this.writes.push(`${method}:${job.jobId}`);
    return structuredClone(next);
  }

  async create(job: VideoJob): Promise<{ created: boolean; job: VideoJob }> {
    this.#check('create');
    const existing = this.peek(job.jobId);
    if (existing !== undefined) return { created: false, job: existing };
    this.put(job);
    this.writes.push(`create:${job.jobId}`);
    return { created: true, job: structuredClone(job) };
  }

  async get(jobId: string): Promise<VideoJob | undefined> {
    this.#check('get');
    return this.peek(jobId);
  }

  async claimSubmit(jobId: string, at: Date): Promise<SubmitClaim> {
    this.#check('claimSubmit');
    const job = this.items.get(jobId);
    if (job === undefined) return { kind: 'missing' };
    if (
      job.status === 'PENDING' &&
      job.segmindRequestId === undefined &&
      (job.submitState === undefined || job.submitState === 'NOT_CREATED')
    ) {
      const claimed = this.#write('claimSubmit', job, {
        submitState: 'IN_FLIGHT',
        submitAttempts: (job.submitAttempts ?? 0) + 1,
        updatedAt: at.toISOString(),
      });
      return { kind: 'claimed', job: claimed };
    }
    const current = structuredClone(job);
    if (isTerminal(current.status)) return { kind: 'terminal', status: current.status, job: current };
    const submitted = submittedOf(current);
    if (submitted !== undefined) return { kind: 'already-submitted', submitted, job: current };
    return { kind: 'in-doubt', submitState: current.submitState ?? 'UNKNOWN', job: current };
  }

  async recordSubmitted(jobId: string, submitted: SubmittedJob, at: Date): Promise<VideoJob> {
    this.#check('recordSubmitted');
    const job = this.items.get(jobId);
    if (job === undefined) throw new JobStateError(`no record ${jobId}`);
    if (job.segmindRequestId !== undefined && job.segmindRequestId !== submitted.requestId) {
      throw new JobStateError(`job ${jobId} already holds ${job.segmindRequestId}`);
    }
    const fields: Partial<VideoJob> = {
      submitState: 'ACCEPTED',
      segmindRequestId: submitted.requestId,
      statusUrl: submitted.statusUrl,
      responseUrl: submitted.responseUrl,
      updatedAt: at.toISOString(),
    };
    if (job.status === 'PENDING') {
      return this.#write(
        'recordSubmitted',
        job,
        { ...fields, status: 'QUEUED', submittedAt: submitted.submittedAt, lastSegmindStatus: 'QUEUED' },
        ['errorCode', 'errorMessage', 'rateBudgetWait'],
      );
    }
    return this.#write('recordSubmitted', job, {
      ...fields,
      submittedAt: job.submittedAt ?? submitted.submittedAt,
    });
  }

  async recordRateBudgetWait(jobId: string, wait: RateBudgetWait, at: Date): Promise<boolean> {
    this.#check('recordRateBudgetWait');
    const job = this.items.get(jobId);
    if (job?.status !== 'PENDING' || job.segmindRequestId !== undefined) return false;
    this.#write('recordRateBudgetWait', job, { rateBudgetWait: { ...wait }, updatedAt: at.toISOString() });
    return true;
  }

  async recordSubmitNotCreated(jobId: string, error: RecordedError, at: Date): Promise<boolean> {
    this.#check('recordSubmitNotCreated');
    const job = this.items.get(jobId);
    if (job?.status !== 'PENDING' || job.submitState !== 'IN_FLIGHT' || job.segmindRequestId !== undefined) {
      return false;
    }
    this.#write('recordSubmitNotCreated', job, {
      submitState: 'NOT_CREATED',
      ...error,
      updatedAt: at.toISOString(),
    });
    return true;
  }

  async recordSubmitUnknown(jobId: string, error: RecordedError, at: Date): Promise<boolean> {
    this.#check('recordSubmitUnknown');
    const job = this.items.get(jobId);
    if (job?.status !== 'PENDING' || job.segmindRequestId !== undefined) return false;
    this.#write('recordSubmitUnknown', job, {
      submitState: 'UNKNOWN',
      ...error,
      updatedAt: at.toISOString(),
    });
    return true;
  }

  async recordProgress(jobId: string, progress: JobProgress): Promise<boolean> {
    this.#check('recordProgress');
    const job = this.items.get(jobId);
    if (job === undefined || !FORWARD_FROM[progress.status ?? 'PROCESSING'].includes(job.status))
      return false;
    if (job.pollCount !== undefined && job.pollCount > progress.pollCount) return false;
    this.#write('recordProgress', job, {
      ...(progress.status === undefined ? {} : { status: progress.status }),
      ...(progress.status === 'PROCESSING' && job.processingAt === undefined
        ? { processingAt: progress.at.toISOString() }
        : {}),
      lastSegmindStatus: progress.lastSegmindStatus,
      pollCount: progress.pollCount,
      updatedAt: progress.at.toISOString(),
    });
    return true;
  }

  async recordWaiting(jobId: string, waiting: JobWaiting | undefined, at: Date): Promise<boolean> {
    this.#check('recordWaiting');
    const job = this.items.get(jobId);
    if (job === undefined || isTerminal(job.status)) return false;
    this.#write(
      'recordWaiting',
      job,
      { ...(waiting === undefined ? {} : { waiting }), updatedAt: at.toISOString() },
      waiting === undefined ? ['waiting'] : [],
    );
    return true;
  }

  async recordMetrics(jobId: string, metrics: SegmindMetrics, at: Date): Promise<boolean> {
    this.#check('recordMetrics');
    const job = this.items.get(jobId);
    if (job === undefined) return false;
    this.#write('recordMetrics', job, { metrics, updatedAt: at.toISOString() }, ['waiting']);
    return true;
  }

  async markStoring(jobId: string, at: Date): Promise<VideoJob> {
    this.#check('markStoring');
    const job = this.items.get(jobId);
    if (job === undefined || isTerminal(job.status)) {
      if (job?.status === 'CANCELLED') throw new JobCancelledError(`Job ${jobId} was cancelled`);
      throw new JobStateError(
        job === undefined ? `Job ${jobId} has no record` : `Job ${jobId} already ended as ${job.status}`,
      );
    }
    return this.#write('markStoring', job, {
      status: 'STORING',
      storingAt: job.storingAt ?? at.toISOString(),
      updatedAt: at.toISOString(),
    });
  }

  /** As the DynamoDB adapter: CANCELLED only from PENDING, QUEUED or PROCESSING. */
  async cancel(jobId: string, at: Date, reason: string): Promise<CancelOutcome> {
    this.#check('cancel');
    const job = this.items.get(jobId);
    if (job === undefined) return { kind: 'missing' };
    if (isTerminal(job.status))
      return { kind: 'already-ended', status: job.status, job: structuredClone(job) };
    if (job.status === 'STORING') return { kind: 'storing', job: structuredClone(job) };
    const cancelled = this.#write('cancel', job, {
      status: 'CANCELLED',
      errorCode: 'JobCancelledError',
      errorMessage: reason,
      cancelledAt: at.toISOString(),
      updatedAt: at.toISOString(),
    });
    return { kind: 'cancelled', job: cancelled };
  }

  async recordFailure(jobId: string, failure: TerminalFailure, at: Date): Promise<VideoJob | undefined> {
    this.#check('recordFailure');
    const job = this.items.get(jobId);
    if (job === undefined) return undefined;
    if (isTerminal(job.status)) return structuredClone(job);
    return this.#write('recordFailure', job, {
      status: failure.status,
      errorCode: failure.errorCode,
      errorMessage: failure.errorMessage,
      ...(failure.pollCount === undefined ? {} : { pollCount: failure.pollCount }),
      failedAt: at.toISOString(),
      updatedAt: at.toISOString(),
    });
  }
}

export const DEFAULT_REQUEST: VideoRequest = Object.freeze({
  prompt: 'A lighthouse in a storm, waves crashing',
  duration: 8,
  resolution: '2k',
  generateAudio: true,
});

export const pendingJob = (jobId: string, overrides: Partial<VideoJob> = {}): VideoJob => ({
  jobId,
  status: 'PENDING',
  source: 'api',
  request: { ...DEFAULT_REQUEST },
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  ...overrides,
});

type Scripted<T> = T | Error | (() => T | Promise<T>);

const play = async <T>(step: Scripted<T> | undefined, fallback: () => T): Promise<T> => {
  if (step === undefined) return fallback();
  if (step instanceof Error) throw step;
  if (typeof step === 'function') return (step as () => T | Promise<T>)();
  return step;
};

/** A Segmind that answers from scripts (one entry per call, then defaults) and counts every request. */
export class FakeSegmind implements SegmindApi {
  readonly submits: SegmindVideoRequest[] = [];
  readonly statusCalls: string[] = [];
  readonly resultCalls: string[] = [];
  readonly submitScript: Scripted<SubmitAccepted>[] = [];
  readonly statusScript: Scripted<StatusReport>[] = [];
  readonly resultScript: Scripted<ResultReport>[] = [];

  async submit(request: SegmindVideoRequest): Promise<SubmitAccepted> {
    this.submits.push(request);
    const n = this.submits.length;
    return play(this.submitScript.shift(), () => ({
      requestId: `req-${n}`,
      statusUrl: `https://api.segmind.test/v2/requests/req-${n}/status`,
      responseUrl: `https://api.segmind.test/v2/requests/req-${n}`,
    }));
  }

  async status(requestIdOrStatusUrl: string): Promise<StatusReport> {
    this.statusCalls.push(requestIdOrStatusUrl);
    return play(this.statusScript.shift(), () => ({ requestId: 'req-1', status: 'QUEUED', metrics: {} }));
  }

  async result(requestIdOrResponseUrl: string): Promise<ResultReport> {
    this.resultCalls.push(requestIdOrResponseUrl);
    return play(this.resultScript.shift(), () => ({
      status: 'COMPLETED',
      requestId: 'req-1',
      video: {
        url: 'https://images.segmind.test/generations/req-1.mp4',
        contentType: 'video/mp4',
        fileSize: 1234,
      },
      metrics: { inferenceTime: 41.2, queueTime: 3.1, totalTime: 44.3, cost: 0.52, remainingCredits: 118.4 },
    }));
  }
}

/** A job clock at a fixed instant (scale 1) that moves only through `advance`. */
export const fixedClock = (
  startIso = '2030-01-01T00:00:10.000Z',
): JobClock & { advance(seconds: number): void } => {
  let nowMs = Date.parse(startIso);
  const clock = createJobClock({ timeScale: 1, now: () => nowMs });
  return {
    timeScale: clock.timeScale,
    now: () => clock.now(),
    elapsedSeconds: (since) => clock.elapsedSeconds(since),
    at: (seconds) => clock.at(seconds),
    advance: (seconds) => {
      nowMs += seconds * 1000;
    },
  };
};
