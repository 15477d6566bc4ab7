// The events a job publishes when it ends, shared by the state machine (infra) and the functions that end a
// job outside it (a cancel through the API), so that a consumer sees one vocabulary whoever ended the job.
export const VIDEO_JOB_EVENTS = {
  source: 'ltx-video-pipeline',
  succeeded: 'Video Generation Succeeded',
  failed: 'Video Generation Failed',
} as const;
