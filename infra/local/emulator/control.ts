// The emulator's control surface, for tests and benchmarks. Segmind has nothing like it: it lives under
// CONTROL_PREFIX over HTTP, and on the object returned by startEmulator() in process.
import type { HostResolver } from '#adapters/url-guard';

export const CONTROL_PREFIX = '/__emulator';

export type Endpoint = 'submit' | 'status' | 'result' | 'download' | 'credits';

/** Draws queue and inference time for a job. All times in emulated seconds. */
export interface LatencyModel {
  /** Median queue time and its log-normal spread. */
  queueMedianSeconds: number;
  queueSigma: number;
  /** Inference time of the reference job (2k, 8 s, audio, no image); others scale from it. */
  inferenceBaseSeconds: number;
  resolutionFactor: Record<'1080p' | '2k' | '4k', number>;
  durationFactor: Record<'6' | '8' | '10', number>;
  audioFactor: number;
  imageFactor: number;
  /** Relative spread (log-normal sigma) of inference time. */
  inferenceSigma: number;
  /** Probability that a job lands on a cold worker, and the extra seconds that costs (uniform range). */
  coldWorkerProbability: number;
  coldWorkerExtraSeconds: [number, number];
  /**
   * Added: non-cold totals (queue + inference) are clamped into this range. The default model uses
   * [30, 120], the public range; omit it (or configure [0, 1e9]) for an unbounded model.
   */
  totalRangeSeconds?: [number, number];
}

export interface EmulatorConfig {
  /** Emulated seconds per real second. 1 = Segmind's real pace; 100 runs a 46 s job in 0.46 s. */
  timeScale: number;
  latency: LatencyModel;
  /** Requests per minute per key, counted in emulated time over all endpoints (submit, status, result). */
  rateLimitPerMinute: number;
  /** Status and results are kept this long after submission (emulated seconds), then 404. */
  retentionSeconds: number;
  /** Credits charged per COMPLETED job (Segmind bills only completed ones). */
  costPerJob: number;
}

/**
 * One injected fault. It applies to the next `count` matching requests (default 1; Infinity = until
 * cleared) on `endpoint`, optionally only for one request id.
 */
export type Fault = { endpoint: Endpoint; count?: number; requestId?: string } & (
  | { kind: 'http-error'; status: number; body: 'html' | 'json' | 'empty' }
  | { kind: 'rate-limit' } // a 429 burst with x-rate-limit-reset-at-utc
  | { kind: 'slow'; delayMs: number } // answer (or, for download, start streaming) after a real delay
  | { kind: 'reset-before-accept' } // submit: destroy the socket before the job exists
  | { kind: 'reset-after-accept' } // submit: create the job, then destroy the socket (the ambiguous case)
  | { kind: 'error-after-accept'; status: number; body: 'html' | 'json' | 'empty' } // submit: create the job, then answer an error (a proxy's 502 page)
  | { kind: 'reset' } // GETs: destroy the socket without an answer
  | { kind: 'truncate'; bytes?: number } // download: Content-Length of the whole file, then stop early
  | { kind: 'corrupt' } // download: right length, wrong bytes (no MP4 signature)
  | { kind: 'wrong-content-type'; contentType: string } // download
  | { kind: 'empty-body' } // 200 with no body
  | { kind: 'non-json' } // 200 with text/plain garbage
  | { kind: 'extra-fields' } // answer as usual plus unknown fields
  | { kind: 'missing-video-object' } // result: only `output`, no `video`
  | { kind: 'unknown-status'; status: string } // status/result: report a status Segmind never documented
  | { kind: 'missing-request-id' } // submit: 200 without request_id (no job created)
);

/** A fault as the random mode draws it: the endpoint comes from the request, the count is always one. */
export type FaultKindSpec = WithoutTarget<Fault>;
type WithoutTarget<F> = F extends unknown ? Omit<F, 'endpoint' | 'count' | 'requestId'> : never;

/**
 * Seeded random faults, beside the injected ones (an injected fault that matches is used first). Each
 * Segmind request on an endpoint listed in `kinds` draws a fault with probability `rate` (or that
 * endpoint's own rate), then one of the kinds that can apply to it, uniformly.
 */
export interface RandomFaults {
  rate: number;
  /** The kinds to draw from, per endpoint; an endpoint left out gets none. @default DEFAULT_RANDOM_FAULT_KINDS */
  kinds?: Partial<Record<Endpoint, FaultKindSpec[]>>;
  /** Per-endpoint rates that override `rate`. */
  rates?: Partial<Record<Endpoint, number>>;
  /** @default the emulator's seed */
  seed?: number;
}

/** What the emulator did for one Segmind request id: the figures a soak checks delivery against. */
export interface RequestRecord {
  requestId: string;
  prompt: string;
  /** Real time, ISO-8601. */
  createdAt: string;
  /** The submit's 200 with this request id reached the client's socket whole. */
  answered: boolean;
  status: 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED';
  /** Billed: Segmind charges a job when it completes. */
  billed: boolean;
  cost: number;
  /** COMPLETED result answers that carried the video URL and reached the client whole. */
  resultsServed: number;
  /** Download requests for the output file, and how many sent every byte intact. */
  downloads: number;
  fullDownloads: number;
  /** Bytes of the output file sent whole and intact, over all downloads. */
  bytesDownloaded: number;
  /** sha256 of the output file as served whole and intact (null until then). */
  sha256: string | null;
  /** Faults applied to requests about this id (submit faults after the job existed included), by kind. */
  faults: Record<string, number>;
}

/** One POST to the submit endpoint, in arrival order. */
export interface SubmitAttempt {
  /** The prompt of the body, when it had one. */
  prompt: string | null;
  /** Set when this attempt created a job. */
  requestId: string | null;
  /** The fault applied, if any. */
  fault: string | null;
  /** The answer reached the client whole (false for resets and answers to a client that had gone). */
  answered: boolean;
  httpStatus: number | null;
}

/** Makes matching jobs end FAILED (HTTP 422 on status and result) instead of COMPLETED. */
export interface FailureRule {
  promptContains?: string;
  /** Probability (0..1, drawn from the seeded generator) for jobs not matched by promptContains. */
  probability?: number;
  /** 'content-blocked' fails with a content-safety message, like Segmind's filter. */
  kind: 'failed' | 'content-blocked';
  error?: string;
}

export interface Counters {
  /** Every request served, by endpoint (including ones answered with an error). */
  byEndpoint: Record<Endpoint | 'control' | 'other', number>;
  /** The same, per API key (the key as sent, or '(none)'). */
  byKey: Record<string, Partial<Record<Endpoint | 'other', number>>>;
  /** Jobs actually created (accepted submits). The number a test checks to prove "no double submit". */
  jobsCreated: number;
  /** Responses by HTTP status code. */
  byStatusCode: Record<string, number>;
  /** Highest number of jobs QUEUED or PROCESSING at the same time. */
  maxConcurrentJobs: number;
  /** Added: connections destroyed on purpose by a fault (these have no status code). */
  connectionsReset: number;
  /** Added: faults applied (injected or drawn), by endpoint and kind. */
  faultsByKind: Partial<Record<Endpoint, Record<string, number>>>;
  /** Added: jobs created whose submit answer never reached the client (reset or error after accept, a client gone). */
  createdWithoutAnswer: number;
  /** Added: jobs billed (COMPLETED), results served, output files downloaded whole and intact. */
  billed: number;
  resultsServed: number;
  fullDownloads: number;
}

export interface EmulatorJobView {
  requestId: string;
  apiKey: string;
  prompt: string;
  image: string | null;
  status: 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED';
  submittedAt: string;
  // Added: the job's parameters and its drawn latency (emulated seconds), for determinism checks.
  resolution: '1080p' | '2k' | '4k';
  duration: 6 | 8 | 10;
  generateAudio: boolean;
  queueSeconds: number;
  inferenceSeconds: number;
  coldWorker: boolean;
  /** Set once the job is FAILED or COMPLETED (real time, ISO-8601). */
  finishedAt: string | null;
  /** Past the retention window: status and result answer 404. */
  expired: boolean;
}

/**
 * In-process control; the same operations over HTTP:
 *   POST {CONTROL_PREFIX}/config   body Partial<EmulatorConfig>  (latency merged field by field)
 *   POST {CONTROL_PREFIX}/faults   body Fault | Fault[]            DELETE {CONTROL_PREFIX}/faults
 *   POST {CONTROL_PREFIX}/failures body FailureRule                DELETE {CONTROL_PREFIX}/failures
 *   POST {CONTROL_PREFIX}/credits  body {apiKey, credits}
 *   GET  {CONTROL_PREFIX}/counters GET {CONTROL_PREFIX}/jobs   POST {CONTROL_PREFIX}/reset
 * Added: GET {CONTROL_PREFIX}/config, POST {CONTROL_PREFIX}/clock body {advanceSeconds},
 *   POST {CONTROL_PREFIX}/random-faults body RandomFaults  GET and DELETE {CONTROL_PREFIX}/random-faults,
 *   GET {CONTROL_PREFIX}/requests (RequestRecord[])   GET {CONTROL_PREFIX}/submits (SubmitAttempt[]).
 * Over HTTP a fault `count` of null or "Infinity" means Infinity (JSON has no Infinity).
 */
export interface EmulatorControl {
  configure(config: Partial<Omit<EmulatorConfig, 'latency'>> & { latency?: Partial<LatencyModel> }): void;
  config(): EmulatorConfig;
  injectFault(fault: Fault | Fault[]): void;
  clearFaults(): void;
  addFailureRule(rule: FailureRule): void;
  clearFailureRules(): void;
  setCredits(apiKey: string, credits: number): void;
  counters(): Counters;
  jobs(): EmulatorJobView[];
  /** Forget jobs, faults, rules and counters; restore the start-up config and credits. */
  reset(): void;
  /** Added: jump emulated time forward (e.g. past the retention window) without waiting. */
  advanceClock(emulatedSeconds: number): void;
  /** Added: start (or replace) the seeded random fault mode; null stops it. Survives reset() only if set at start-up. */
  setRandomFaults(random: RandomFaults | null): void;
  randomFaults(): RandomFaults | null;
  /** Added: per request id, what was created, billed, served and downloaded. */
  requests(): RequestRecord[];
  /** Added: every submit POST, in arrival order. */
  submits(): SubmitAttempt[];
}

export interface EmulatorOptions {
  /** 0 (default) picks a free port. Always binds 127.0.0.1. */
  port?: number;
  /** Accepted keys; default one generated `SG_` + 16 hex key. */
  apiKeys?: string[];
  timeScale?: number;
  seed?: number;
  /** Starting credits per key (default 100). */
  credits?: number;
  rateLimitPerMinute?: number;
  /** Where generated MP4s are cached (default .local/emulator-cache). */
  cacheDir?: string;
  // Added: the rest of the start-up config (reset() returns to these).
  latency?: Partial<LatencyModel>;
  retentionSeconds?: number;
  costPerJob?: number;
  /** Added: the random fault mode from the start (and after every reset()). */
  randomFaults?: RandomFaults;
  /**
   * `host:port` pairs it downloads first-frame images from, as Segmind would (the local stack passes its
   * s3rver). Any other image URL is checked by the URL rule, never fetched. @default none
   */
  allowedImageHosts?: readonly string[];
  /** Resolves host names for those downloads; tests inject one. @default the system resolver */
  resolveImageHost?: HostResolver;
}

export interface RunningEmulator {
  /** Base URL, e.g. http://127.0.0.1:41234 — pass it as SEGMIND_BASE_URL. */
  url: string;
  apiKeys: string[];
  control: EmulatorControl;
  stop(): Promise<void>;
  /**
   * Added: makes the output MP4s for these job shapes now (cached on disk), so that the first job of a
   * shape is not held in PROCESSING while ffmpeg runs — which at a high time scale would inflate its
   * reported inference time. Benchmarks and time-sensitive tests call it before they start.
   */
  prepareVideos(
    shapes: Array<{ resolution: '1080p' | '2k' | '4k'; duration: 6 | 8 | 10; generateAudio: boolean }>,
  ): Promise<void>;
}
