// The Segmind API itself: submit, status, result, credits, and the output file download. Bodies follow
// infra/local/emulator/SEGMIND_API.md; where it is silent the choice is marked [guess].
import type { Fault } from '#emulator/control';
import type { EmulatorCore } from '#emulator/emulator';
import { type Job, jobState, jobTimings } from '#emulator/jobs';
import { type Headers, json, jsonError, type Reply } from '#emulator/replies';
import { validateSubmit } from '#emulator/validation';

export const MISSING_KEY_MESSAGE = 'Missing Authorization or x-api-key in header';
export const INVALID_KEY_MESSAGE = 'Invalid API key'; // [guess] Segmind's exact wording is not public
export const INSUFFICIENT_CREDITS_MESSAGE = 'Insufficient credits';
export const RATE_LIMITED_MESSAGE = 'Too many requests: rate limit exceeded, retry after the reset time';
export const MODEL = 'ltx-2-fast';
export const MAX_BODY_BYTES = 1024 * 1024;

/** What a Segmind route needs from the HTTP request. */
export interface SegmindCall {
  apiKey: string | undefined;
  contentType: string | undefined;
  /** The body, or undefined when it exceeds MAX_BODY_BYTES. */
  readBody(): Promise<Buffer | undefined>;
  fault: Fault | undefined;
}

const rateHeader = (core: EmulatorCore, resetAt: number): Headers => ({
  'x-rate-limit-reset-at-utc': core.clock.toReal(resetAt).toISOString(),
});

/** A 429 in Segmind's shape: the reset instant in a header, no Retry-After. */
export const rateLimited = (core: EmulatorCore, apiKey: string | undefined): Reply =>
  jsonError(
    429,
    RATE_LIMITED_MESSAGE,
    rateHeader(core, core.limiter.resetAt(apiKey ?? '', core.clock.now())),
  );

/** Authenticates and counts the request against the key's rate limit. */
const admit = (core: EmulatorCore, apiKey: string | undefined): { reply: Reply } | { headers: Headers } => {
  // Only x-api-key counts: `Authorization: Bearer` alone is a missing key to Segmind.
  if (apiKey === undefined || apiKey === '') return { reply: jsonError(401, MISSING_KEY_MESSAGE) };
  if (!core.apiKeys.has(apiKey)) return { reply: jsonError(401, INVALID_KEY_MESSAGE) };
  const decision = core.limiter.take(apiKey, core.clock.now(), core.settings.rateLimitPerMinute);
  if (!decision.allowed)
    return { reply: jsonError(429, RATE_LIMITED_MESSAGE, rateHeader(core, decision.resetAt)) };
  return {
    headers: { ...rateHeader(core, decision.resetAt), 'x-rate-limit-remaining': String(decision.remaining) },
  };
};

const urlsFor = (core: EmulatorCore, requestId: string) => ({
  poll_url: `${core.baseUrl}/v1/requests/${requestId}`,
  status_url: `${core.baseUrl}/v2/requests/${requestId}/status`,
  response_url: `${core.baseUrl}/v2/requests/${requestId}`,
});

const extraFields = (fault: Fault | undefined): Record<string, unknown> =>
  fault?.kind === 'extra-fields' ? { queue_position: 0, model: MODEL, _trace: { region: 'us-east-1' } } : {};

const notFound = (requestId: string): Reply => jsonError(404, `Request ${requestId} not found`);

export const submit = async (core: EmulatorCore, call: SegmindCall): Promise<Reply> => {
  const admitted = admit(core, call.apiKey);
  if ('reply' in admitted) return admitted.reply;
  const apiKey = call.apiKey ?? '';
  if (!/^application\/json\b/i.test(call.contentType ?? '')) {
    return jsonError(406, 'Content-Type must be application/json', admitted.headers);
  }
  const raw = await call.readBody();
  if (raw === undefined) return jsonError(413, 'Request body too large', admitted.headers);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return jsonError(400, 'Request body is not valid JSON', admitted.headers);
  }
  const validated = validateSubmit(body);
  if (!validated.ok) return jsonError(400, validated.error, admitted.headers);
  const balance = core.credits(apiKey);
  if (balance <= 0 || balance < core.settings.costPerJob) {
    return jsonError(406, INSUFFICIENT_CREDITS_MESSAGE, admitted.headers);
  }
  const job = core.createJob(apiKey, validated.request);
  const { poll_url, status_url, response_url } = urlsFor(core, job.requestId);
  return json(
    200,
    {
      request_id: job.requestId,
      status: 'QUEUED',
      poll_url,
      status_url,
      response_url,
      ...extraFields(call.fault),
    },
    admitted.headers,
  );
};

const failedBody = (job: Job, error: string, finishedAt: number, extra: Record<string, unknown>) => {
  const t = jobTimings(job, finishedAt);
  return {
    status: 'FAILED',
    error,
    metrics: { inference_time: t.inferenceTime, queue_time: t.queueTime, total_time: t.totalTime },
    request_id: job.requestId,
    ...extra,
  };
};

/** [guess] A job that is not finished (or reports an unknown status) looks like the status answer. */
const pendingBody = (core: EmulatorCore, job: Job, status: string, extra: Record<string, unknown>) => {
  const { status_url, response_url } = urlsFor(core, job.requestId);
  return { status, request_id: job.requestId, status_url, response_url, metrics: {}, ...extra };
};

/**
 * What the status and result calls start with: the key and rate limit, then the caller's own job (as of
 * now: the queue settled), or the reply that ends the call there.
 */
const admitJob = (
  core: EmulatorCore,
  call: SegmindCall,
  requestId: string,
): { reply: Reply } | { job: Job; headers: Headers; extra: Record<string, unknown> } => {
  const admitted = admit(core, call.apiKey);
  if ('reply' in admitted) return admitted;
  const job = core.visibleJob(call.apiKey ?? '', requestId);
  if (job === undefined) return { reply: notFound(requestId) };
  core.settle();
  return { job, headers: admitted.headers, extra: extraFields(call.fault) };
};

export const status = (core: EmulatorCore, call: SegmindCall, requestId: string): Reply => {
  const found = admitJob(core, call, requestId);
  if ('reply' in found) return found.reply;
  const { job, headers, extra } = found;
  if (call.fault?.kind === 'unknown-status') {
    return json(200, pendingBody(core, job, call.fault.status, extra), headers);
  }
  const state = jobState(job, core.clock.now());
  switch (state.status) {
    case 'FAILED':
      return json(422, failedBody(job, state.error ?? 'FAILED', state.finishedAt ?? 0, extra), headers);
    case 'COMPLETED': {
      const t = jobTimings(job, state.finishedAt ?? 0);
      return json(
        200,
        {
          status: 'COMPLETED',
          request_id: job.requestId,
          metrics: { inference_time: t.inferenceTime },
          ...extra,
        },
        headers,
      );
    }
    default:
      return json(200, pendingBody(core, job, state.status, extra), headers);
  }
};

export const downloadUrl = (core: EmulatorCore, job: Job): string =>
  `${core.baseUrl}/generations/${job.videoToken}.mp4`;

export const result = (core: EmulatorCore, call: SegmindCall, requestId: string): Reply => {
  const found = admitJob(core, call, requestId);
  if ('reply' in found) return found.reply;
  const { job, headers, extra } = found;
  if (call.fault?.kind === 'unknown-status') {
    return json(
      200,
      { ...pendingBody(core, job, call.fault.status, extra), output: null, error: null },
      headers,
    );
  }
  const state = jobState(job, core.clock.now());
  if (state.status === 'FAILED') {
    return json(422, failedBody(job, state.error ?? 'FAILED', state.finishedAt ?? 0, extra), headers);
  }
  if (state.status !== 'COMPLETED' || state.file === undefined) {
    return json(200, { ...pendingBody(core, job, state.status, extra), output: null, error: null }, headers);
  }
  const url = downloadUrl(core, job);
  const t = jobTimings(job, state.finishedAt ?? 0);
  const video = {
    url,
    content_type: 'video/mp4',
    file_name: `${job.videoToken}.mp4`,
    file_size: state.file.size,
    ...(call.fault?.kind === 'extra-fields' ? { duration: job.variant.duration } : {}),
  };
  return json(
    200,
    {
      status: 'COMPLETED',
      error: null,
      output: url,
      ...(call.fault?.kind === 'missing-video-object' ? {} : { video }),
      metrics: {
        inference_time: t.inferenceTime,
        queue_time: t.queueTime,
        total_time: t.totalTime,
        cost: job.charge?.cost ?? core.settings.costPerJob,
        remaining_credits: job.charge?.remainingCredits ?? core.credits(job.apiKey),
      },
      ...extra,
    },
    headers,
  );
};

export const credits = (core: EmulatorCore, call: SegmindCall): Reply => {
  const admitted = admit(core, call.apiKey);
  if ('reply' in admitted) return admitted.reply;
  return json(
    200,
    { credits: core.credits(call.apiKey ?? ''), 'free-credits': 0, ...extraFields(call.fault) },
    admitted.headers,
  );
};

/** The output file: public (no key), unguessable, like Segmind's CDN link. */
export const download = async (core: EmulatorCore, token: string): Promise<Reply> => {
  const job = core.downloadableJob(token);
  if (job === undefined) return jsonError(404, 'Not Found');
  const file = await core.videos.ensure(job.variant);
  return {
    kind: 'file',
    status: 200,
    file,
    contentType: 'video/mp4',
    headers: { 'cache-control': 'public, max-age=604800', 'accept-ranges': 'none' },
  };
};
