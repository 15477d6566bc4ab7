// GET /videos?status=&limit=&cursor= — one page of the caller's jobs, newest first, with an opaque cursor to the next.
import { createJobQuery } from '#adapters/job-query';
import { type JobList, listVideosParams, listVideosQuerySchema, toJobView } from '#domain/api-schemas';
import { type JobQuery, listJobs } from '#domain/list-jobs';
import { listOwnedJobs } from '#domain/list-owned-jobs';
import { type ApiRoute, apiHandler, callerOf, json, parseInput, requestPathOf } from '#functions/api/http';

const QUERY_PARAMS = Object.keys(listVideosParams);

export const listVideosRoute =
  (query: JobQuery): ApiRoute =>
  async (event) => {
    const params = parseInput(listVideosQuerySchema, event.queryStringParameters ?? {}, {
      whole: 'query',
      keyKind: 'query parameter',
      knownKeys: QUERY_PARAMS,
    });
    const options = {
      limit: params.limit,
      ...(params.status === undefined ? {} : { status: params.status }),
      ...(params.cursor === undefined ? {} : { cursor: params.cursor }),
    };
    // A caller lists its own jobs; only the local user of a credential-less local API lists them all.
    const caller = callerOf(event);
    const { jobs, nextCursor } =
      caller.kind === 'owner'
        ? await listOwnedJobs(query, caller.owner, options)
        : await listJobs(query, options);
    const base = requestPathOf(event);
    const body: JobList = {
      items: jobs.map((job) => toJobView(job, { self: `${base}/${job.jobId}` })),
      nextCursor: nextCursor ?? null,
    };
    return json(200, body);
  };

export const handler = apiHandler(listVideosRoute(createJobQuery()));
