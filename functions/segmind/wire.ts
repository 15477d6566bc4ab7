// Reads Segmind's answers into our types and maps every other outcome onto one SegmindError. Pure: no I/O,
// so each rule below is unit-tested directly, and the client is only transport plus these functions.
import type { SegmindMetrics } from '#domain/video-job';
import {
  SegmindAuthError,
  SegmindBadRequestError,
  type SegmindError,
  SegmindInsufficientCreditsError,
  SegmindMalformedResponseError,
  SegmindModelGoneError,
  SegmindNotFoundError,
  SegmindRateLimitedError,
  SegmindTimeoutError,
  SegmindUnavailableError,
  type SubmitOutcome,
} from '#segmind/errors';
import type { HttpAnswer, TransportFailure } from '#segmind/http';
import type { ResultReport, StatusReport, SubmitAccepted, VideoOutput } from '#segmind/types';

export type Operation = 'submit' | 'status' | 'result';

/** What a mapping needs to know about the call it maps. */
export interface CallContext {
  operation: Operation;
  /** The request id the call was about (status/result), when known. */
  requestId: string | undefined;
  /** The API key, only so that it can be cut out of any text Segmind echoes back. */
  secret: string;
}

const MAX_DETAIL_CHARS = 300;
const MAX_REQUEST_ID_CHARS = 256;

// ---- small readers -----------------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

type Body =
  | { kind: 'json'; value: unknown }
  | { kind: 'empty' }
  | { kind: 'html'; text: string }
  | { kind: 'text'; text: string };

const readBody = (answer: HttpAnswer): Body => {
  const text = answer.body.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(text) };
  } catch {
    const contentType = String(answer.headers['content-type'] ?? '');
    const html = contentType.includes('html') || /^\s*</.test(text);
    return html ? { kind: 'html', text } : { kind: 'text', text };
  }
};

/** Cuts the key out of text that came from the network, flattens it to one line and bounds its length. */
export const sanitise = (text: string, secret: string): string => {
  const redacted = secret.length >= 4 ? text.split(secret).join('[redacted]') : text;
  const flat = redacted.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS)}…` : flat;
};

const htmlTitle = (html: string): string | undefined =>
  /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();

/** Segmind's `error` (or a `message`/`detail` some gateways use), as text. */
const errorField = (value: unknown): string | undefined => {
  if (!isObject(value)) return undefined;
  for (const field of ['error', 'message', 'detail']) {
    const candidate = value[field];
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate;
    if (isObject(candidate) || Array.isArray(candidate)) return JSON.stringify(candidate);
  }
  return undefined;
};

/** A human summary of a body for an error message (never the whole body, never the key). */
const describeBody = (body: Body, secret: string): string => {
  switch (body.kind) {
    case 'empty':
      return 'empty body';
    case 'html': {
      const title = htmlTitle(body.text);
      return `HTML page${title ? ` "${sanitise(title, secret)}"` : ''}`;
    }
    case 'text':
      return `non-JSON body "${sanitise(body.text.slice(0, 80), secret)}"`;
    case 'json': {
      const detail = errorField(body.value);
      return detail === undefined ? 'JSON body without an error message' : sanitise(detail, secret);
    }
  }
};

const httpUrl = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
};

const finiteNumber = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const METRIC_FIELDS = {
  inference_time: 'inferenceTime',
  queue_time: 'queueTime',
  total_time: 'totalTime',
  cost: 'cost',
  remaining_credits: 'remainingCredits',
} as const satisfies Record<string, keyof SegmindMetrics>;

/** Segmind's `metrics` in our names; anything that is not a finite number is dropped. */
export const readMetrics = (value: unknown): SegmindMetrics => {
  const metrics: SegmindMetrics = {};
  if (!isObject(value)) return metrics;
  for (const [wire, ours] of Object.entries(METRIC_FIELDS)) {
    const number = finiteNumber(value[wire]);
    if (number !== undefined) metrics[ours] = number;
  }
  return metrics;
};

/**
 * `x-rate-limit-reset-at-utc`: the format is not documented, so accept ISO-8601 (a missing zone means UTC,
 * as the header's name says) and epoch seconds or milliseconds. Anything else gives undefined.
 */
export const readResetAt = (header: string | string[] | undefined): Date | undefined => {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) {
    const number = Number(raw);
    const date = new Date(number < 1e11 ? number * 1000 : number);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(raw) ? raw : `${raw.replace(' ', 'T')}Z`;
  const time = Date.parse(zoned);
  return Number.isNaN(time) ? undefined : new Date(time);
};

/** The request id a status_url or response_url points at (`…/requests/{id}` or `…/requests/{id}/status`). */
export const requestIdFromUrl = (url: URL): string | undefined => {
  const match = /\/requests\/([^/]+)(?:\/status)?\/?$/.exec(url.pathname);
  if (match?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
};

// ---- errors ------------------------------------------------------------------------------------------

const subject = (context: CallContext): string =>
  context.operation === 'submit'
    ? 'Segmind submit'
    : `Segmind ${context.operation} of request ${context.requestId ?? '(unknown id)'}`;

const errorOptions = (context: CallContext, httpStatus?: number, cause?: unknown) => ({
  ...(httpStatus === undefined ? {} : { httpStatus }),
  ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
  ...(cause === undefined ? {} : { cause }),
});

/** For calls other than submit nothing can be created, so the outcome is always 'not-created'. */
const outcome = (context: CallContext, forSubmit: SubmitOutcome): SubmitOutcome =>
  context.operation === 'submit' ? forSubmit : 'not-created';

/** No status line arrived. Whether a submit may have created a job depends only on whether it was fully sent. */
export const errorFromTransport = (failure: TransportFailure, context: CallContext): SegmindError => {
  const sent: SubmitOutcome = failure.requestSent ? 'may-exist' : 'not-created';
  const message = `${subject(context)} failed: ${failure.message}${
    context.operation === 'submit' && failure.requestSent ? ' after the request was sent' : ''
  }`;
  const options = errorOptions(context, undefined, failure.cause ?? failure);
  if (failure.kind === 'network')
    return new SegmindUnavailableError(message, outcome(context, sent), options);
  return new SegmindTimeoutError(message, outcome(context, sent), options);
};

/**
 * An answer with a status line but a body we could not fully read. Only a 2xx gets here (an error status
 * is classified by its code alone): on a submit the job may exist, since Segmind said yes.
 */
const errorFromBrokenBody = (answer: HttpAnswer, context: CallContext, limit: string): SegmindError => {
  const options = errorOptions(context, answer.status);
  const mayExist = outcome(context, 'may-exist');
  switch (answer.bodyState) {
    case 'timed-out':
      return new SegmindTimeoutError(
        `${subject(context)} failed: HTTP ${answer.status} but the body did not arrive within the read timeout`,
        mayExist,
        options,
      );
    case 'cut':
      return new SegmindUnavailableError(
        `${subject(context)} failed: HTTP ${answer.status} but the connection broke mid-body`,
        mayExist,
        options,
      );
    default:
      return new SegmindMalformedResponseError(
        `${subject(context)} failed: HTTP ${answer.status} with a body larger than ${limit}`,
        mayExist,
        options,
      );
  }
};

/**
 * Segmind's own error answer: a JSON object whose `error` is a string (SEGMIND_API.md). An HTML or text page,
 * an empty body, or another JSON shape (`{"message": …}` is what AWS's and other gateways send) comes from
 * something in front of Segmind, which cannot know whether Segmind took the job.
 */
const isSegmindErrorBody = (body: Body): boolean =>
  body.kind === 'json' &&
  isObject(body.value) &&
  typeof body.value.error === 'string' &&
  body.value.error.trim() !== '';

/**
 * Maps an error status. For a submit, the three kinds of outcome (see DESIGN.md):
 * - not created, so a retry may POST again: every 4xx, 501, and a 500 or 503 in Segmind's JSON error shape;
 * - unknown ('may-exist'), never POSTed again by default: 502, 504, other 5xx, and a 500 or 503 whose body
 *   is HTML, text, empty or another JSON shape — a proxy's answer, possibly after Segmind accepted the job.
 */
export const errorFromStatus = (answer: HttpAnswer, context: CallContext, limit: string): SegmindError => {
  const { status } = answer;
  const body: Body =
    answer.bodyState === 'complete'
      ? readBody(answer)
      : { kind: 'text', text: answer.bodyState === 'too-large' ? `larger than ${limit}` : 'unreadable' };
  const detail = describeBody(body, context.secret);
  const message = `${subject(context)} failed: HTTP ${status} (${detail})`;
  const options = errorOptions(context, status);
  const submit = context.operation === 'submit';

  switch (status) {
    case 400:
    case 413:
    case 415:
      return new SegmindBadRequestError(message, options);
    case 401:
    case 403:
      return new SegmindAuthError(message, options);
    case 404:
      return submit
        ? new SegmindModelGoneError(message, options)
        : new SegmindNotFoundError(message, options);
    case 406:
      return new SegmindInsufficientCreditsError(message, options);
    case 408:
      // The server gave up reading our request: it never had a whole body to act on.
      return new SegmindTimeoutError(message, 'not-created', options);
    case 410:
      return new SegmindModelGoneError(message, options);
    case 422:
      // On status/result a 422 is a FAILED job; readers handle readable ones before getting here.
      return submit
        ? new SegmindBadRequestError(message, options)
        : new SegmindMalformedResponseError(message, 'not-created', options);
    case 429:
      return new SegmindRateLimitedError(
        message,
        readResetAt(answer.headers['x-rate-limit-reset-at-utc']),
        options,
      );
    case 501:
      // Not implemented: nothing behind the front door took the request, whoever answered.
      return new SegmindUnavailableError(message, 'not-created', options);
    case 500:
    case 503:
      // Only Segmind's own application answers in its JSON error shape, and then it says it refused.
      return new SegmindUnavailableError(
        message,
        isSegmindErrorBody(body) ? 'not-created' : outcome(context, 'may-exist'),
        options,
      );
    default:
      break;
  }
  if (status >= 500) {
    // 502, 504 and unlisted 5xx (e.g. a CDN's 520–524): a proxy lost or gave up on a backend that may have
    // accepted the job before failing — whatever the body says, the proxy cannot know.
    return new SegmindUnavailableError(message, outcome(context, 'may-exist'), options);
  }
  if (status >= 300) {
    // 405 (an HTML page), unfollowed redirects, other 4xx: an explicit refusal, so nothing was created.
    return new SegmindMalformedResponseError(
      `${subject(context)} failed: unexpected HTTP ${status} (${detail})`,
      'not-created',
      options,
    );
  }
  // 1xx or a status line we cannot place: Segmind's side may have acted on it.
  return new SegmindMalformedResponseError(
    `${subject(context)} failed: unexpected HTTP ${status} (${detail})`,
    outcome(context, 'may-exist'),
    options,
  );
};

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** A 2xx whose body is not a JSON object. */
const malformed = (
  answer: HttpAnswer,
  context: CallContext,
  problem: string,
): SegmindMalformedResponseError =>
  new SegmindMalformedResponseError(
    `${subject(context)} failed: HTTP ${answer.status} with ${problem}`,
    outcome(context, 'may-exist'),
    errorOptions(context, answer.status),
  );

const jsonObjectOf = (answer: HttpAnswer, context: CallContext): JsonObject => {
  const body = readBody(answer);
  if (body.kind === 'json' && isObject(body.value)) return body.value;
  const what =
    body.kind === 'json' ? 'a JSON body that is not an object' : describeBody(body, context.secret);
  throw malformed(answer, context, what);
};

// ---- submit ------------------------------------------------------------------------------------------

/** Where to poll when Segmind gave no usable URL: the documented paths under our own base URL. */
export const defaultUrls = (
  baseUrl: string,
  requestId: string,
): { statusUrl: string; responseUrl: string } => {
  const id = encodeURIComponent(requestId);
  return { statusUrl: `${baseUrl}/v2/requests/${id}/status`, responseUrl: `${baseUrl}/v2/requests/${id}` };
};

/**
 * A URL Segmind gave us is followed only if it is http(s) and not a downgrade: with an https base URL the
 * key must never travel in clear text.
 */
export const followableUrl = (value: unknown, baseUrl: string): string | undefined => {
  const url = httpUrl(value);
  if (url === undefined) return undefined;
  return baseUrl.startsWith('https:') && !url.startsWith('https:') ? undefined : url;
};

/**
 * A 2xx from submit is Segmind saying it took the POST. Without a readable `request_id` we cannot prove no
 * job exists, so every malformed 2xx is 'may-exist': failing one job beats paying for two.
 */
export const readSubmitAnswer = (
  answer: HttpAnswer,
  context: CallContext,
  baseUrl: string,
  limit: string,
): SubmitAccepted => {
  if (!isSuccess(answer.status)) throw errorFromStatus(answer, context, limit);
  if (answer.bodyState !== 'complete') throw errorFromBrokenBody(answer, context, limit);
  const body = jsonObjectOf(answer, context);
  const requestId = body.request_id;
  if (typeof requestId !== 'string' || requestId.trim() === '' || requestId.length > MAX_REQUEST_ID_CHARS) {
    throw malformed(answer, context, 'no usable request_id');
  }
  const fallback = defaultUrls(baseUrl, requestId);
  return {
    requestId,
    statusUrl: followableUrl(body.status_url, baseUrl) ?? fallback.statusUrl,
    responseUrl: followableUrl(body.response_url, baseUrl) ?? fallback.responseUrl,
  };
};

// ---- status and result -------------------------------------------------------------------------------

const TERMINAL = new Set(['COMPLETED', 'FAILED']);

const failureDetail = (body: JsonObject, secret: string): string =>
  sanitise(errorField(body) ?? 'Segmind gave no error detail', secret) || 'Segmind gave no error detail';

/**
 * A GET's answer as a JSON object when it is data: any readable body whose status is COMPLETED or FAILED
 * (FAILED comes as 422), a 2xx, or a 422 carrying an error (Segmind's FAILED without the status field).
 * Everything else throws the matching SegmindError.
 */
const dataOf = (answer: HttpAnswer, context: CallContext, limit: string): JsonObject => {
  if (answer.bodyState === 'complete') {
    const body = readBody(answer);
    if (body.kind === 'json' && isObject(body.value)) {
      const status = body.value.status;
      if (typeof status === 'string' && TERMINAL.has(status)) return body.value;
      if (answer.status === 422 && errorField(body.value) !== undefined)
        return { ...body.value, status: 'FAILED' };
    }
  }
  if (!isSuccess(answer.status)) throw errorFromStatus(answer, context, limit);
  if (answer.bodyState !== 'complete') throw errorFromBrokenBody(answer, context, limit);
  return jsonObjectOf(answer, context);
};

const statusOf = (body: JsonObject, answer: HttpAnswer, context: CallContext): string => {
  const status = body.status;
  if (typeof status !== 'string' || status.trim() === '') throw malformed(answer, context, 'no status');
  return status;
};

const requestIdOf = (body: JsonObject, context: CallContext): string => {
  const fromBody = body.request_id;
  return typeof fromBody === 'string' && fromBody !== '' ? fromBody : (context.requestId ?? '');
};

export const readStatusAnswer = (answer: HttpAnswer, context: CallContext, limit: string): StatusReport => {
  const body = dataOf(answer, context, limit);
  const status = statusOf(body, answer, context);
  return {
    requestId: requestIdOf(body, context),
    status,
    ...(status === 'FAILED' ? { error: failureDetail(body, context.secret) } : {}),
    metrics: readMetrics(body.metrics),
  };
};

/** The video of a COMPLETED result: the `video` object when it has a URL, else `output` (always present). */
const videoOf = (body: JsonObject): VideoOutput | undefined => {
  const video = isObject(body.video) ? body.video : {};
  const output = Array.isArray(body.output)
    ? body.output.find((item) => httpUrl(item) !== undefined)
    : body.output;
  const url = httpUrl(video.url) ?? httpUrl(output) ?? (isObject(output) ? httpUrl(output.url) : undefined);
  if (url === undefined) return undefined;
  const contentType = video.content_type;
  const fileName = video.file_name;
  const fileSize = finiteNumber(video.file_size);
  return {
    url,
    ...(typeof contentType === 'string' && contentType !== '' ? { contentType } : {}),
    ...(typeof fileName === 'string' && fileName !== '' ? { fileName } : {}),
    ...(fileSize !== undefined && fileSize >= 0 ? { fileSize } : {}),
  };
};

export const readResultAnswer = (answer: HttpAnswer, context: CallContext, limit: string): ResultReport => {
  const body = dataOf(answer, context, limit);
  const status = statusOf(body, answer, context);
  const requestId = requestIdOf(body, context);
  const metrics = readMetrics(body.metrics);
  if (status === 'FAILED') return { status, requestId, error: failureDetail(body, context.secret), metrics };
  if (status !== 'COMPLETED') return { status, requestId, metrics, pending: true };
  const video = videoOf(body);
  if (video === undefined) throw malformed(answer, context, 'COMPLETED but no http(s) video URL');
  return { status, requestId, video, metrics };
};
