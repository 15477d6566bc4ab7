// GET /videos/{jobId} — the caller's job as callers see it, with a short-lived download link once COMPLETED.
import { createJobStore } from '#adapters/job-store';
import { createVideoLinks, type VideoLinks } from '#adapters/video-links';
import { type JobView, jobIdSchema, toJobView } from '#domain/api-schemas';
import { ownedJob } from '#domain/job-owner';
import type { JobStore } from '#domain/job-store';
import { type ApiRoute, apiHandler, callerOf, json, parseInput, requestPathOf } from '#functions/api/http';

export interface GetVideoPorts {
  jobs: Pick<JobStore, 'get'>;
  links: VideoLinks;
}

export const getVideoRoute =
  (ports: GetVideoPorts): ApiRoute =>
  async (event) => {
    const jobId = parseInput(jobIdSchema, event.pathParameters?.jobId, {
      whole: 'jobId',
      keyKind: 'path parameter',
      knownKeys: [],
    });
    // Another caller's job is answered exactly as a missing one.
    const job = await ownedJob(ports.jobs, jobId, callerOf(event));

    const links: JobView['links'] = { self: requestPathOf(event) };
    if (job.status === 'COMPLETED' && job.video !== undefined) {
      links.video = await ports.links.downloadLink(job.video, `${job.jobId}.mp4`);
    }
    return json(200, toJobView(job, links));
  };

export const handler = apiHandler(getVideoRoute({ jobs: createJobStore(), links: createVideoLinks() }));
