// The emulator's control surface, for tests and benchmarks. Segmind has nothing like it: it lives under
// CONTROL_PREFIX over HTTP, and on the object returned by startEmulator() in process.

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
 * Added: GET {CONTROL_PREFIX}/config, POST {CONTROL_PREFIX}/clock body {advanceSeconds}.
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
