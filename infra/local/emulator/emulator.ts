// The emulator's state and the operations on it, shared by the Segmind routes and the control API.
import { randomBytes, randomUUID } from 'node:crypto';
import { EmulatedClock } from '#emulator/clock';
import type {
  Counters,
  EmulatorConfig,
  EmulatorControl,
  EmulatorJobView,
  FailureRule,
  Fault,
  LatencyModel,
  RandomFaults,
  RequestRecord,
  SubmitAttempt,
} from '#emulator/control';
import { configPatchSchema, parseFailureRule, parseFaults, parseOrThrow } from '#emulator/control-schemas';
import { CounterBook } from '#emulator/counters';
import { decideFailure } from '#emulator/failure-rules';
import { FaultBook } from '#emulator/faults';
import { checkImage, type ImageFetchPolicy } from '#emulator/image-check';
import { type Job, JobStore, jobState } from '#emulator/jobs';
import { DEFAULT_LATENCY_MODEL, drawLatency } from '#emulator/latency-model';
import { CreditLedger } from '#emulator/ledger';
import { mulberry32, type Random } from '#emulator/random';
import { RandomFaultBook } from '#emulator/random-faults';
import { RateLimiter } from '#emulator/rate-limiter';
import { RequestLedger } from '#emulator/request-ledger';
import type { ValidSubmit } from '#emulator/validation';
import type { VideoLibrary } from '#emulator/videos';

export const DEFAULT_CONFIG: Readonly<Omit<EmulatorConfig, 'latency'>> = Object.freeze({
  timeScale: 1,
  rateLimitPerMinute: 50,
  retentionSeconds: 3600,
  costPerJob: 0.5,
});

/** Segmind keeps output files 7 days (the job record only 1 hour). */
const DOWNLOAD_RETENTION_MS = 7 * 24 * 3600 * 1000;

export interface EmulatorCoreOptions {
  apiKeys: string[];
  seed: number;
  credits: number;
  config: EmulatorConfig;
  videos: VideoLibrary;
  randomFaults?: RandomFaults | undefined;
  /** Which first-frame image URLs it downloads (see image-check). @default none: no URL is fetched */
  imagePolicy?: ImageFetchPolicy;
}

const copyLatency = (model: LatencyModel): LatencyModel => structuredClone(model);

const mergeLatency = (model: LatencyModel, patch: Partial<LatencyModel> | undefined): LatencyModel => {
  if (patch === undefined) return model;
  return {
    ...model,
    ...patch,
    resolutionFactor: { ...model.resolutionFactor, ...(patch.resolutionFactor ?? {}) },
    durationFactor: { ...model.durationFactor, ...(patch.durationFactor ?? {}) },
  };
};

export const buildConfig = (patch: {
  timeScale?: number | undefined;
  rateLimitPerMinute?: number | undefined;
  retentionSeconds?: number | undefined;
  costPerJob?: number | undefined;
  latency?: Partial<LatencyModel> | undefined;
}): EmulatorConfig =>
  parseOrThrow(
    configPatchSchema.required(),
    {
      timeScale: patch.timeScale ?? DEFAULT_CONFIG.timeScale,
      rateLimitPerMinute: patch.rateLimitPerMinute ?? DEFAULT_CONFIG.rateLimitPerMinute,
      retentionSeconds: patch.retentionSeconds ?? DEFAULT_CONFIG.retentionSeconds,
      costPerJob: patch.costPerJob ?? DEFAULT_CONFIG.costPerJob,
      latency: mergeLatency(copyLatency(DEFAULT_LATENCY_MODEL), patch.latency),
    },
    'emulator config',
  ) as EmulatorConfig;

export class EmulatorCore implements EmulatorControl {
  readonly apiKeys: ReadonlySet<string>;
  readonly clock: EmulatedClock;
  readonly store = new JobStore();
  readonly faults = new FaultBook();
  readonly counterBook = new CounterBook();
  readonly limiter = new RateLimiter();
  readonly ledger = new RequestLedger();
  readonly randomFaultBook: RandomFaultBook;
  readonly videos: VideoLibrary;
  /** Set once the server listens. */
  baseUrl = '';

  private current: EmulatorConfig;
  private readonly initial: EmulatorConfig;
  private readonly creditLedger: CreditLedger;
  private readonly initialRandomFaults: RandomFaults | null;
  private rules: FailureRule[] = [];
  private latencyRandom: Random;
  private failureRandom: Random;
  private readonly timers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly seed: number;
  private readonly imagePolicy: ImageFetchPolicy;

  constructor(options: EmulatorCoreOptions) {
    this.imagePolicy = options.imagePolicy ?? { allowedHosts: new Set() };
    this.apiKeys = new Set(options.apiKeys);
    this.initial = structuredClone(options.config);
    this.current = structuredClone(options.config);
    this.clock = new EmulatedClock(this.current.timeScale);
    this.creditLedger = new CreditLedger(options.credits);
    this.videos = options.videos;
    this.seed = options.seed;
    // Two streams, so adding a failure rule does not shift every later job's latency.
    this.latencyRandom = mulberry32(this.seed);
    this.failureRandom = mulberry32(this.seed ^ 0x9e3779b9);
    this.randomFaultBook = new RandomFaultBook(this.seed ^ 0x85ebca6b);
    this.initialRandomFaults = options.randomFaults ?? null;
    this.randomFaultBook.set(this.initialRandomFaults);
  }

  // ---- Segmind-side operations ----

  /** Creates a job: draws its latency and fate now, and starts what it waits for (image, output file). */
  createJob(apiKey: string, request: ValidSubmit): Job {
    const now = this.clock.now();
    const latency = drawLatency(this.current.latency, request, this.latencyRandom);
    const failure = decideFailure(this.rules, request.prompt, this.failureRandom());
    const variant = {
      resolution: request.resolution,
      duration: request.duration,
      audio: request.generate_audio,
    };
    const job: Job = {
      requestId: randomUUID(),
      apiKey,
      prompt: request.prompt,
      image: request.image,
      variant,
      submittedAt: now,
      submittedAtReal: Date.now(),
      latency,
      failure,
      videoToken: randomBytes(16).toString('hex'),
      video: { state: 'pending' },
      imageFetch: request.image === null ? { state: 'done', at: now, value: true } : { state: 'pending' },
    };
    if (failure === undefined) {
      const known = this.videos.ready(variant);
      if (known !== undefined) job.video = { state: 'done', at: now, value: known };
      else {
        this.videos.ensure(variant).then(
          (file) => {
            job.video = { state: 'done', at: this.clock.now(), value: file };
          },
          (error: unknown) => {
            job.video = { state: 'failed', at: this.clock.now(), error: String(error) };
          },
        );
      }
    }
    if (request.image !== null) {
      checkImage(request.image, this.imagePolicy).then((error) => {
        job.imageFetch =
          error === undefined
            ? { state: 'done', at: this.clock.now(), value: true }
            : { state: 'failed', at: this.clock.now(), error };
      });
    }
    this.store.add(job);
    return job;
  }

  /** A job the key may see, unless unknown or past retention. */
  visibleJob(apiKey: string, requestId: string): Job | undefined {
    const job = this.store.get(requestId);
    if (job === undefined || job.apiKey !== apiKey || this.isExpired(job)) return undefined;
    return job;
  }

  /** A downloadable job by its file token: COMPLETED, and within the 7-day file retention. */
  downloadableJob(token: string): Job | undefined {
    const job = this.store.byVideoToken(token);
    if (job === undefined) return undefined;
    const now = this.clock.now();
    if (now >= job.submittedAt + DOWNLOAD_RETENTION_MS) return undefined;
    return jobState(job, now).status === 'COMPLETED' ? job : undefined;
  }

  isExpired(job: Job): boolean {
    return this.clock.now() >= job.submittedAt + this.current.retentionSeconds * 1000;
  }

  /** Bills what has completed, then reads the balance. */
  credits(apiKey: string): number {
    this.settle();
    return this.creditLedger.balance(apiKey);
  }

  settle(): void {
    this.store.settle(this.clock.now(), (job) => ({
      cost: this.current.costPerJob,
      remainingCredits: this.creditLedger.charge(job.apiKey, this.current.costPerJob),
    }));
  }

  /** A cancellable delay: stop() wakes every sleeper, so no timer outlives the server. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.timers.add(entry);
    });
  }

  cancelSleeps(): void {
    for (const entry of this.timers) {
      clearTimeout(entry.timer);
      entry.wake();
    }
    this.timers.clear();
  }

  // ---- EmulatorControl ----

  configure(patch: Partial<Omit<EmulatorConfig, 'latency'>> & { latency?: Partial<LatencyModel> }): void {
    const parsed = parseOrThrow(configPatchSchema, patch, 'emulator config');
    const next: EmulatorConfig = {
      ...this.current,
      ...(parsed.timeScale === undefined ? {} : { timeScale: parsed.timeScale }),
      ...(parsed.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: parsed.rateLimitPerMinute }),
      ...(parsed.retentionSeconds === undefined ? {} : { retentionSeconds: parsed.retentionSeconds }),
      ...(parsed.costPerJob === undefined ? {} : { costPerJob: parsed.costPerJob }),
      latency: mergeLatency(this.current.latency, parsed.latency as Partial<LatencyModel> | undefined),
    };
    if (next.timeScale !== this.current.timeScale) this.clock.setTimeScale(next.timeScale);
    this.current = next;
  }

  config(): EmulatorConfig {
    return structuredClone(this.current);
  }

  /** The live config, read-only (no copy: routes read it on every request). */
  get settings(): Readonly<EmulatorConfig> {
    return this.current;
  }

  injectFault(fault: Fault | Fault[]): void {
    this.faults.add(parseFaults(fault));
  }

  clearFaults(): void {
    this.faults.clear();
  }

  addFailureRule(rule: FailureRule): void {
    this.rules.push(parseFailureRule(rule));
  }

  clearFailureRules(): void {
    this.rules = [];
  }

  setCredits(apiKey: string, credits: number): void {
    this.settle();
    this.creditLedger.set(apiKey, credits);
  }

  counters(): Counters {
    const requests = this.requests();
    return {
      ...this.counterBook.snapshot(this.store.size, this.store.maxConcurrent(this.clock.now())),
      faultsByKind: this.ledger.faultsByKind(),
      createdWithoutAnswer: requests.filter((r) => !r.answered).length,
      billed: requests.filter((r) => r.billed).length,
      ...this.ledger.totals(),
    };
  }

  setRandomFaults(random: RandomFaults | null): void {
    this.randomFaultBook.set(random);
  }

  randomFaults(): RandomFaults | null {
    return this.randomFaultBook.get();
  }

  requests(): RequestRecord[] {
    this.settle();
    const now = this.clock.now();
    return this.store.all().map((job) => {
      const tally = this.ledger.peek(job.requestId);
      return {
        requestId: job.requestId,
        prompt: job.prompt,
        createdAt: new Date(job.submittedAtReal).toISOString(),
        answered: tally?.answered ?? false,
        status: jobState(job, now).status,
        billed: job.charge !== undefined,
        cost: job.charge?.cost ?? 0,
        resultsServed: tally?.resultsServed ?? 0,
        downloads: tally?.downloads ?? 0,
        fullDownloads: tally?.fullDownloads ?? 0,
        bytesDownloaded: tally?.bytesDownloaded ?? 0,
        sha256: tally?.sha256 ?? null,
        faults: { ...(tally?.faults ?? {}) },
      };
    });
  }

  submits(): SubmitAttempt[] {
    return this.ledger.submits();
  }

  jobs(): EmulatorJobView[] {
    this.settle();
    const now = this.clock.now();
    return this.store.all().map((job) => {
      const state = jobState(job, now);
      return {
        requestId: job.requestId,
        apiKey: job.apiKey,
        prompt: job.prompt,
        image: job.image,
        status: state.status,
        submittedAt: new Date(job.submittedAtReal).toISOString(),
        resolution: job.variant.resolution,
        duration: job.variant.duration,
        generateAudio: job.variant.audio,
        queueSeconds: job.latency.queueSeconds,
        inferenceSeconds: job.latency.inferenceSeconds,
        coldWorker: job.latency.coldWorker,
        finishedAt: state.finishedAt === undefined ? null : this.clock.toReal(state.finishedAt).toISOString(),
        expired: this.isExpired(job),
      };
    });
  }

  reset(): void {
    this.store.clear();
    this.faults.clear();
    this.rules = [];
    this.counterBook.reset();
    this.ledger.reset();
    this.randomFaultBook.set(this.initialRandomFaults);
    this.limiter.clear();
    this.creditLedger.reset();
    this.current = structuredClone(this.initial);
    this.clock.setTimeScale(this.current.timeScale);
    this.latencyRandom = mulberry32(this.seed);
    this.failureRandom = mulberry32(this.seed ^ 0x9e3779b9);
  }

  advanceClock(emulatedSeconds: number): void {
    if (!Number.isFinite(emulatedSeconds) || emulatedSeconds < 0) {
      throw new RangeError(
        `advanceClock needs a finite number of seconds >= 0, got ${String(emulatedSeconds)}`,
      );
    }
    this.clock.advance(emulatedSeconds);
  }
}
