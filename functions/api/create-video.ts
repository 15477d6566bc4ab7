// POST /videos — validate the body against the one request schema, create the job and start its
// workflow; 202 with where to poll. An Idempotency-Key makes a repeat return the same job.
import { createJobStore } from '#adapters/job-store';
import { type HostResolver, systemResolver, vetUrl } from '#adapters/url-guard';
import { createVideoWorkflow } from '#adapters/workflow-starter';
import { imageUrlPolicy } from '#commons/config';
import {
  type CreatedJob,
  createVideoBodySchema,
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKeySchema,
} from '#domain/api-schemas';
import { jobIdFromIdempotencyKey, newJobId } from '#domain/job-id';
import { type StartJobPorts, startJob } from '#domain/start-job';
import {
  type ApiRoute,
  apiHandler,
  callerOf,
  headerOf,
  json,
  jsonBodyOf,
  ownerOf,
  parseInput,
  RequestValidationError,
  requestPathOf,
} from '#functions/api/http';

const BODY_FIELDS = Object.keys(createVideoBodySchema.shape);

// A bad LTX_ALLOWED_IMAGE_HOSTS fails the cold start, not the first request with an image.
imageUrlPolicy();

/**
 * The schema checked the image URL's syntax and any literal address; here its host name is resolved, and
 * every address must be public. The edge is where a caller can still be told; the fetch is guarded again
 * (Segmind fetches from its own network on AWS; the emulator by the same rule locally).
 */
const checkImageHost = async (imageUrl: string | undefined, resolve: HostResolver): Promise<void> => {
  if (imageUrl === undefined) return;
  const vetting = await vetUrl(imageUrl, imageUrlPolicy(), resolve);
  if (!vetting.ok)
    throw new RequestValidationError([{ field: 'imageUrl', message: `imageUrl ${vetting.reason}` }]);
};

export const createVideoRoute =
  (ports: StartJobPorts, resolveHost: HostResolver = systemResolver): ApiRoute =>
  async (event) => {
    const rawKey = headerOf(event, IDEMPOTENCY_KEY_HEADER);
    const idempotencyKey =
      rawKey === undefined
        ? undefined
        : parseInput(idempotencyKeySchema, rawKey, {
            whole: IDEMPOTENCY_KEY_HEADER,
            keyKind: 'header',
            knownKeys: [],
          });
    const request = parseInput(createVideoBodySchema, jsonBodyOf(event), {
      whole: 'body',
      keyKind: 'field',
      knownKeys: BODY_FIELDS,
    });
    await checkImageHost(request.imageUrl, resolveHost);

    // The caller owns the job, and its Idempotency-Keys are its own: the same key from two callers makes two jobs.
    const owner = ownerOf(callerOf(event));
    const { job, created } = await startJob(ports, {
      jobId: idempotencyKey === undefined ? newJobId() : jobIdFromIdempotencyKey(owner, idempotencyKey),
      source: 'api',
      owner,
      request,
      rejectDifferentRequest: idempotencyKey !== undefined,
    });

    const self = `${requestPathOf(event)}/${job.jobId}`;
    const body: CreatedJob = { jobId: job.jobId, status: job.status, links: { self } };
    return json(202, body, {
      Location: self,
      // Tells a retrying client that this answer is the job an earlier call created.
      ...(created ? {} : { 'Idempotent-Replayed': 'true' }),
    });
  };

export const handler = apiHandler(
  createVideoRoute({ jobs: createJobStore(), workflow: createVideoWorkflow(), now: () => new Date() }),
);
