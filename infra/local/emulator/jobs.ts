// The job store. A job's status is never stored: it is computed from the emulated clock, the drawn
// latency and whether its prerequisites (the image download, the output file) are done. So there are no
// timers, and a paused or time-jumped clock moves every job consistently.
import type { FailureDecision } from '#emulator/failure-rules';
import type { LatencyDraw } from '#emulator/latency-model';
import type { VideoFile, VideoVariant } from '#emulator/videos';

export type JobStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED';

/** Something a job waits for before it can finish; `at` is the emulated time it settled. */
export type Prerequisite<T> =
  | { state: 'pending' }
  | { state: 'done'; at: number; value: T }
  | { state: 'failed'; at: number; error: string };

export interface Job {
  requestId: string;
  apiKey: string;
  prompt: string;
  image: string | null;
  variant: VideoVariant;
  /** Emulated ms. */
  submittedAt: number;
  /** Real ms, for display. */
  submittedAtReal: number;
  latency: LatencyDraw;
  failure: FailureDecision | undefined;
  /** The unguessable name of the output file, `<token>.mp4`. */
  videoToken: string;
  video: Prerequisite<VideoFile>;
  imageFetch: Prerequisite<true>;
  /** Set when the job was billed (on first observation as COMPLETED). */
  charge?: { cost: number; remainingCredits: number };
}

export interface JobState {
  status: JobStatus;
  /** Emulated ms at which the job reached FAILED/COMPLETED. */
  finishedAt?: number;
  error?: string;
  file?: VideoFile;
}

const INTERNAL_VIDEO_ERROR = 'Internal server error: the output video could not be produced';
/** A content filter rejects before inference really starts. */
const CONTENT_BLOCK_SECONDS = 0.8;
/** A crashing job dies a quarter of the way in. */
const FAILURE_FRACTION = 0.25;

/** The job's status at emulated time `now`. Pure. */
export const jobState = (job: Job, now: number): JobState => {
  const startedAt = job.submittedAt + job.latency.queueSeconds * 1000;
  if (now < startedAt) return { status: 'QUEUED' };
  const inferenceMs = job.latency.inferenceSeconds * 1000;
  if (job.failure !== undefined) {
    const seconds =
      job.failure.kind === 'content-blocked'
        ? Math.min(CONTENT_BLOCK_SECONDS, job.latency.inferenceSeconds)
        : job.latency.inferenceSeconds * FAILURE_FRACTION;
    const failAt = startedAt + seconds * 1000;
    return now < failAt
      ? { status: 'PROCESSING' }
      : { status: 'FAILED', finishedAt: failAt, error: job.failure.error };
  }
  if (job.imageFetch.state === 'failed') {
    const failAt = Math.max(startedAt + Math.min(1000, inferenceMs), job.imageFetch.at);
    if (now >= failAt) return { status: 'FAILED', finishedAt: failAt, error: job.imageFetch.error };
  }
  const plannedEnd = startedAt + inferenceMs;
  if (now < plannedEnd || job.imageFetch.state === 'pending') return { status: 'PROCESSING' };
  if (job.video.state === 'pending') return { status: 'PROCESSING' };
  const finishedAt = Math.max(plannedEnd, job.video.at);
  if (job.video.state === 'failed') return { status: 'FAILED', finishedAt, error: INTERNAL_VIDEO_ERROR };
  return { status: 'COMPLETED', finishedAt, file: job.video.value };
};

/** Queue, inference and total seconds as Segmind reports them, for a finished job. */
export const jobTimings = (
  job: Job,
  finishedAt: number,
): { queueTime: number; inferenceTime: number; totalTime: number } => {
  const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;
  const queue = job.latency.queueSeconds;
  const total = (finishedAt - job.submittedAt) / 1000;
  return { queueTime: round(queue), inferenceTime: round(total - queue), totalTime: round(total) };
};

export class JobStore {
  private readonly byId = new Map<string, Job>();
  private readonly byToken = new Map<string, Job>();
  /** Jobs not yet billed nor FAILED: the only ones settlement has to look at. */
  private readonly open = new Set<Job>();

  add(job: Job): void {
    this.byId.set(job.requestId, job);
    this.byToken.set(job.videoToken, job);
    this.open.add(job);
  }

  get(requestId: string): Job | undefined {
    return this.byId.get(requestId);
  }

  byVideoToken(token: string): Job | undefined {
    return this.byToken.get(token);
  }

  all(): Job[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Bills every job that has COMPLETED by `now`, in the order they completed, so each result reports the
   * balance left right after its own charge. Called before anything reads credits or results.
   */
  settle(now: number, bill: (job: Job) => { cost: number; remainingCredits: number }): void {
    const finished: Array<{ job: Job; at: number }> = [];
    for (const job of this.open) {
      const state = jobState(job, now);
      if (state.status === 'FAILED') this.open.delete(job);
      else if (state.status === 'COMPLETED') finished.push({ job, at: state.finishedAt ?? now });
    }
    finished.sort((a, b) => a.at - b.at);
    for (const { job } of finished) {
      job.charge = bill(job);
      this.open.delete(job);
    }
  }

  /** The most jobs that were QUEUED or PROCESSING at the same instant, up to `now`. */
  maxConcurrent(now: number): number {
    const edges: Array<[number, number]> = [];
    for (const job of this.byId.values()) {
      const state = jobState(job, now);
      edges.push([job.submittedAt, 1]);
      if (state.finishedAt !== undefined) edges.push([state.finishedAt, -1]);
    }
    // Ends sort before starts at the same instant: a job that finishes as another arrives does not overlap.
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let max = 0;
    for (const [, delta] of edges) {
      running += delta;
      max = Math.max(max, running);
    }
    return max;
  }

  clear(): void {
    this.byId.clear();
    this.byToken.clear();
    this.open.clear();
  }
}
