// What one ltx-2-fast generation may cost, by shape: the figure reported when a submit's outcome is unknown
// (Segmind may have billed a job we cannot see). Segmind documents only the range, $0.30–$2.00 per video;
// this table assumes a price per second of output that grows with the resolution and reproduces both ends
// of that range (1080p × 6 s = $0.30, 4k × 10 s = $2.00). It is an estimate for alarms and reports: the
// real charge is the `cost` Segmind reports on a completed result.
import type { VideoRequest } from '#domain/video-request';

/** US dollars per second of video, by resolution. */
export const USD_PER_SECOND: Readonly<Record<VideoRequest['resolution'], number>> = Object.freeze({
  '1080p': 0.05,
  '2k': 0.1,
  '4k': 0.2,
});

/** The estimated price of one generation of this shape, in US dollars (cents, rounded). */
export const possibleCostUsd = (shape: Pick<VideoRequest, 'resolution' | 'duration'>): number =>
  Math.round(USD_PER_SECOND[shape.resolution] * shape.duration * 100) / 100;
