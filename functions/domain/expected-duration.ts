// Our prior for when Segmind finishes an ltx-2-fast job, counted from the moment it accepted the submit.
// Every number here is OUR estimate, derived from the few public figures in infra/local/emulator/SEGMIND_API.md — Segmind
// publishes no per-configuration latency. The polling policy only needs the prior to be roughly right:
// a wrong prior costs a few extra requests or a few seconds of detection delay, never a lost job.
import type { Duration, Resolution } from '#domain/video-request';

/** What about a job drives its run time. */
export interface JobShape {
  resolution: Resolution;
  duration: Duration;
  generateAudio: boolean;
  hasImage: boolean;
}

export interface ExpectedDurationModel {
  /** Seconds that do not scale with the video: queue pickup plus upload of the output. */
  overheadSeconds: number;
  /** Inference seconds for the reference job: 2k, 8 s, no audio, no image. */
  referenceInferenceSeconds: number;
  /** Inference cost of each resolution relative to 2k. */
  resolutionFactor: Readonly<Record<Resolution, number>>;
  /** Inference cost of each duration relative to 8 s. */
  durationFactor: Readonly<Record<Duration, number>>;
  /** Extra inference, as a fraction, for the synchronized audio track. */
  audioFactor: number;
  /** Fixed extra seconds for fetching and encoding a first-frame image. */
  imageSeconds: number;
}

/**
 * Calibration (our estimate, not Segmind's):
 * - Segmind's model page shows ~46–48 s end to end for a job of unstated configuration; we take it to be
 *   the default job (2k, 8 s, audio, no image): 4 + 40 × 1.08 ≈ 47.2 s.
 * - The overhead of 4 s follows Segmind's example result (queue_time 3.1 s) plus an output upload.
 * - Resolution: 1080p, 2k and 4k have 0.56×, 1× and 2.25× the pixels of 2k; cost grows a little less
 *   than pixel count because part of every step is fixed, hence 0.65 / 1 / 1.9.
 * - Duration: frames at 25 fps are 150 / 200 / 250, so cost scales with them: 0.75 / 1 / 1.25.
 * - Audio adds ~8 % (≈ 3 s on the default job); an input image ~2 s.
 * The extremes land at ≈ 24 s (1080p, 6 s, silent) and ≈ 109 s (4k, 10 s, audio, image), inside the
 * 30–120 s other hosts report for LTX-2, which is all the evidence there is.
 */
export const EXPECTED_DURATION_MODEL: ExpectedDurationModel = Object.freeze({
  overheadSeconds: 4,
  referenceInferenceSeconds: 40,
  resolutionFactor: Object.freeze({ '1080p': 0.65, '2k': 1, '4k': 1.9 }),
  durationFactor: Object.freeze({ 6: 0.75, 8: 1, 10: 1.25 }),
  audioFactor: 0.08,
  imageSeconds: 2,
});

/** Seconds after the accepted submit at which we expect Segmind to report COMPLETED. */
export const expectedCompletionSeconds = (
  job: JobShape,
  model: ExpectedDurationModel = EXPECTED_DURATION_MODEL,
): number => {
  const inference =
    model.referenceInferenceSeconds *
    model.resolutionFactor[job.resolution] *
    model.durationFactor[job.duration] *
    (job.generateAudio ? 1 + model.audioFactor : 1);
  return model.overheadSeconds + inference + (job.hasImage ? model.imageSeconds : 0);
};

/**
 * Blends the prior with end-to-end times observed for recent jobs of the same shape (e.g. Segmind's
 * `metrics.total_time`), so the first poll follows Segmind when it gets faster or slower. The median keeps
 * one cold worker from dragging the estimate; `priorWeight` says how many observations the prior is worth.
 */
export const blendExpectedSeconds = (
  prior: number,
  observedSeconds: readonly number[],
  priorWeight = 5,
): number => {
  const usable = observedSeconds.filter((s) => Number.isFinite(s) && s > 0).sort((a, b) => a - b);
  if (usable.length === 0) return prior;
  const middle = Math.floor(usable.length / 2);
  const median =
    usable.length % 2 === 1
      ? (usable[middle] ?? prior)
      : ((usable[middle - 1] ?? prior) + (usable[middle] ?? prior)) / 2;
  const weight = Math.max(0, priorWeight);
  return (weight * prior + usable.length * median) / (weight + usable.length);
};
