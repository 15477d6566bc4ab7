// FetchResult: reads Segmind's result once the status said COMPLETED, keeps its cost and timings on the
// job record, and hands the video URL on to StoreVideo.
import type { JobClock } from '#commons/clock';
import { ResultNotReadyError } from '#domain/errors';
import type { JobStore } from '#domain/job-store';
import type { FetchedResult } from '#domain/video-job';
import { SegmindJobFailedError } from '#segmind/errors';
import type { SegmindApi } from '#segmind/types';

export interface FetchResultInput {
  jobId: string;
  segmind: { requestId: string; responseUrl: string };
}

export interface FetchResultDeps {
  store: JobStore;
  segmind: Pick<SegmindApi, 'result'>;
  clock: Pick<JobClock, 'now'>;
}

export const fetchResult = async (input: FetchResultInput, deps: FetchResultDeps): Promise<FetchedResult> => {
  const { requestId, responseUrl } = input.segmind;
  const report = await deps.segmind.result(responseUrl);
  if ('pending' in report) {
    // The status said COMPLETED a moment ago; a short retry normally finds the result.
    throw new ResultNotReadyError(
      `Segmind has no result for request ${requestId} yet (status ${JSON.stringify(report.status)})`,
    );
  }
  if (report.status === 'FAILED') {
    throw new SegmindJobFailedError(report.error, { requestId });
  }
  // A missing record is not worth losing the video over; the metrics are bookkeeping.
  await deps.store.recordMetrics(input.jobId, report.metrics, deps.clock.now());
  const { video, metrics } = report;
  return {
    videoUrl: video.url,
    ...(video.fileSize === undefined ? {} : { fileSize: video.fileSize }),
    ...(video.contentType === undefined ? {} : { contentType: video.contentType }),
    metrics,
  };
};
