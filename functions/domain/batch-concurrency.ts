// How many videos a batch may have in flight at once. Segmind's limit counts requests per minute (5 on the
// free tier, 50 on Pro), and every request counts: the submit, each status poll, the result fetch. A video in
// flight therefore spends requests at a rate set by the polling policy, and the batch's concurrency is the
// number of such videos the limit sustains:
//   maxConcurrency = round( RPM × headroom / requests-per-video-per-minute ), at least 1,
//   requests-per-video-per-minute = requests per video / minutes per video.
// The per-video figures come from running the real polling policy against a job of the batch's typical
// shape that finishes a little late (a conservative draw), so they follow the policy when it changes.
import { expectedCompletionSeconds, type JobShape } from '#domain/expected-duration';
import { DEFAULT_POLLING_POLICY, type PollingPolicy } from '#domain/polling-policy';
import { simulatePolling } from '#domain/polling-simulation';

/** Segmind's default job: 2k, 8 s, with audio, no image. */
export const DEFAULT_BATCH_SHAPE: JobShape = Object.freeze({
  resolution: '2k',
  duration: 8,
  generateAudio: true,
  hasImage: false,
});

export interface BatchConcurrencyInput {
  /** The account's Segmind limit, requests per minute. */
  requestsPerMinute: number;
  /** @default DEFAULT_BATCH_SHAPE */
  shape?: JobShape;
  /**
   * Share of the limit the batch may use. The default spends all of it: a 429 is cheap and safe here (a poll
   * folds it into its next wait; a throttled submit provably created no job and is retried), so sizing
   * below the limit only leaves throughput unused. Lower it to keep room for other callers (the API).
   * @default 1
   */
  headroom?: number;
  /** Sizing assumes jobs finish this much later than expected (1.1 = 10 % late). @default 1 */
  latenessFactor?: number;
  policy?: PollingPolicy;
}

export interface BatchConcurrency {
  maxConcurrency: number;
  requestsPerVideo: number;
  minutesPerVideo: number;
  requestsPerVideoPerMinute: number;
}

export const sizeBatchConcurrency = (input: BatchConcurrencyInput): BatchConcurrency => {
  const { requestsPerMinute, headroom = 1, latenessFactor = 1 } = input;
  if (!(Number.isFinite(requestsPerMinute) && requestsPerMinute > 0)) {
    throw new RangeError(`requestsPerMinute must be a positive number, got ${String(requestsPerMinute)}`);
  }
  if (!(headroom > 0 && headroom <= 1)) throw new RangeError(`headroom must be in (0, 1], got ${headroom}`);
  const shape = input.shape ?? DEFAULT_BATCH_SHAPE;
  const completesAtSeconds = expectedCompletionSeconds(shape) * latenessFactor;
  const { requests } = simulatePolling({
    job: shape,
    completesAtSeconds,
    random: () => 0.5,
    policy: input.policy ?? DEFAULT_POLLING_POLICY,
  });
  const minutesPerVideo = completesAtSeconds / 60;
  const requestsPerVideoPerMinute = requests / minutesPerVideo;
  return {
    // Rounded to the nearest whole video, not down: rounding down left up to one video's worth of the
    // limit unused for the whole batch (5 of 5.6 at 50 RPM: 1.23x the bound), while the few 429s that
    // rounding up can cause are absorbed without losing a job (see headroom).
    maxConcurrency: Math.max(1, Math.round((requestsPerMinute * headroom) / requestsPerVideoPerMinute)),
    requestsPerVideo: requests,
    minutesPerVideo,
    requestsPerVideoPerMinute,
  };
};
