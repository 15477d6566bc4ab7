// Announces a job that ended outside the state machine (a cancel) on EventBridge, as the same
// `Video Generation Failed` event, with the same detail, that the state machine's PublishFailed state sends.
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { eventBridgeClient } from '#commons/aws-clients';
import { jobEventsConfig } from '#commons/config';
import { VIDEO_JOB_EVENTS } from '#commons/job-events';
import type { JobEndedPublisher } from '#domain/cancel-job';
import type { VideoJob } from '#domain/video-job';

/** The PutEvents entry of a job that ended: `{jobId, outcome: {status, errorCode, errorMessage}}`. */
export const jobEndedEntry = (job: VideoJob, eventBusName: string): PutEventsRequestEntry => ({
  EventBusName: eventBusName,
  Source: VIDEO_JOB_EVENTS.source,
  DetailType: VIDEO_JOB_EVENTS.failed,
  Detail: JSON.stringify({
    jobId: job.jobId,
    outcome: {
      status: job.status,
      ...(job.errorCode === undefined ? {} : { errorCode: job.errorCode }),
      ...(job.errorMessage === undefined ? {} : { errorMessage: job.errorMessage }),
    },
  }),
});

export const eventBridgeJobEvents = (
  eventBusName: string,
  send: (
    entry: PutEventsRequestEntry,
  ) => Promise<{ FailedEntryCount?: number; Entries?: { ErrorCode?: string }[] }> = (entry) =>
    eventBridgeClient().send(new PutEventsCommand({ Entries: [entry] })),
): JobEndedPublisher => ({
  async jobEnded(job) {
    const response = await send(jobEndedEntry(job, eventBusName));
    // PutEvents answers 200 with per-entry failures: an unsent event must not pass for a sent one.
    if ((response.FailedEntryCount ?? 0) > 0) {
      const code = response.Entries?.[0]?.ErrorCode ?? 'unknown error';
      throw new Error(`EventBridge did not accept the end of job ${job.jobId}: ${code}`);
    }
  },
});

/** The publisher of a Lambda: the bus named by EVENT_BUS_NAME (a missing name fails at start-up). */
export const createJobEvents = (): JobEndedPublisher => eventBridgeJobEvents(jobEventsConfig().eventBusName);
