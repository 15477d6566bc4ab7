// How long a job waits and runs, in emulated seconds. Segmind publishes almost nothing: "~46–48 s" on the
// model page (configuration not stated; we take it as the default job, 2k / 8 s / audio / no image) and
// 30–120 s from other LTX-2 hosts. The factors below are our estimate, not Segmind's. The benchmark
// reuses this model through `drawLatency`, so a client tuned on the emulator is tuned on these numbers.
import type { LatencyModel } from '#emulator/control';
import { logNormal, type Random } from '#emulator/random';

/** What about a job drives its latency (Segmind's wire names). */
export interface LatencyRequest {
  resolution: '1080p' | '2k' | '4k';
  duration: 6 | 8 | 10;
  generate_audio: boolean;
  image?: string | null;
}

export interface LatencyDraw {
  queueSeconds: number;
  inferenceSeconds: number;
  /** The job waited for a worker to boot (its queue time includes the cold start). */
  coldWorker: boolean;
}

/**
 * Calibration: queue median 2.5 s (Segmind's example result shows 3.1 s), inference 44.5 s for the
 * reference job, so its total median is ≈ 47 s. Resolution and duration scale less than pixels or
 * frames because part of every run is fixed (model load, VAE decode, upload). Non-cold totals are
 * clamped into 30–120 s, the public range; 3 % of jobs hit a cold worker and wait 20–90 s more.
 */
export const DEFAULT_LATENCY_MODEL: Readonly<LatencyModel> = Object.freeze({
  queueMedianSeconds: 2.5,
  queueSigma: 0.6,
  inferenceBaseSeconds: 44.5,
  resolutionFactor: Object.freeze({ '1080p': 0.85, '2k': 1, '4k': 1.7 }),
  durationFactor: Object.freeze({ '6': 0.9, '8': 1, '10': 1.2 }),
  audioFactor: 1.1,
  imageFactor: 1.06,
  inferenceSigma: 0.12,
  coldWorkerProbability: 0.03,
  coldWorkerExtraSeconds: [20, 90] as [number, number],
  totalRangeSeconds: [30, 120] as [number, number],
});

/** Median inference seconds for a request (before the random spread). */
export const medianInferenceSeconds = (model: LatencyModel, request: LatencyRequest): number => {
  // The reference job includes audio, so audioFactor is what audio costs over silence: a silent job
  // runs base / audioFactor. The image factor applies on top of the image-free reference.
  const audio = request.generate_audio ? 1 : 1 / model.audioFactor;
  const image = request.image ? model.imageFactor : 1;
  return (
    model.inferenceBaseSeconds *
    model.resolutionFactor[request.resolution] *
    model.durationFactor[`${request.duration}`] *
    audio *
    image
  );
};

const clamp = (value: number, min: number, max: number): number => Math.min(Math.max(value, min), max);

/**
 * One job's latency. Pure: everything random comes from `random`, and it always consumes exactly six
 * uniforms, so jobs drawn from one seeded stream stay reproducible whatever their outcome.
 */
export const drawLatency = (model: LatencyModel, request: LatencyRequest, random: Random): LatencyDraw => {
  const rawQueue = logNormal(random, model.queueMedianSeconds, model.queueSigma);
  const rawInference = logNormal(random, medianInferenceSeconds(model, request), model.inferenceSigma);
  const cold = random() < model.coldWorkerProbability;
  const [coldMin, coldMax] = model.coldWorkerExtraSeconds;
  const coldExtra = coldMin + random() * (coldMax - coldMin);
  const [minTotal, maxTotal] = model.totalRangeSeconds ?? [0, Number.POSITIVE_INFINITY];
  const queue = clamp(rawQueue, 0, maxTotal / 2);
  const inference = clamp(rawInference, Math.max(minTotal - queue, 0.001), Math.max(maxTotal - queue, 0.001));
  return {
    queueSeconds: cold ? queue + coldExtra : queue,
    inferenceSeconds: inference,
    coldWorker: cold,
  };
};
