// Turns what a Step Functions Catch hands over ({Error, Cause}) into the job's terminal status and a
// message fit for the job record and the API: never a stack trace, never unbounded, never a throw.
import type { TerminalStatus, WorkflowFailure } from '#domain/video-job';

export const MAX_ERROR_MESSAGE_LENGTH = 1000;
const MAX_ERROR_CODE_LENGTH = 200;
/** Step Functions caps a Cause well below this; anything larger is not worth parsing as JSON. */
const MAX_PARSED_CAUSE_LENGTH = 256 * 1024;

export type FailureStatus = Exclude<TerminalStatus, 'COMPLETED'>;

/**
 * The error code of a job whose submit may have reached Segmind without an answer (SubmitOutcomeUnknownError
 * in the state machine): Segmind may have created and billed a job we have no request id for.
 */
export const SUBMIT_OUTCOME_UNKNOWN = 'SUBMIT_OUTCOME_UNKNOWN';

/** What the job view says first about such a job. */
export const SUBMIT_OUTCOME_UNKNOWN_NOTICE =
  'Segmind may have billed this job: the submit may have reached it, but no request id came back, ' +
  'so the video cannot be fetched. It was not submitted again, to avoid paying twice.';

export interface ClassifiedFailure {
  status: FailureStatus;
  /**
   * The error's name, as Step Functions matched it (e.g. SegmindJobFailedError, States.Timeout), except
   * SubmitOutcomeUnknownError, recorded as SUBMIT_OUTCOME_UNKNOWN.
   */
  errorCode: string;
  errorMessage: string;
}

/** What the recorder may know beyond the failure itself. */
export interface FailureContext {
  segmindRequestId?: string;
}

// Maps, not object literals: the key is an error name from outside, and a name such as "toString" or
// "__proto__" must find nothing rather than a member of Object.prototype.
const STATUS_BY_ERROR: ReadonlyMap<string, FailureStatus> = new Map([
  ['SegmindNotFoundError', 'EXPIRED'],
  ['JobDeadlineExceededError', 'TIMED_OUT'],
  ['States.Timeout', 'TIMED_OUT'],
  ['States.HeartbeatTimeout', 'TIMED_OUT'],
  ['JobCancelledError', 'CANCELLED'],
]);

/** Error names recorded under another, stable code (the name stays what Retry/Catch match on). */
const CODE_BY_ERROR: ReadonlyMap<string, string> = new Map([
  ['SubmitOutcomeUnknownError', SUBMIT_OUTCOME_UNKNOWN],
]);

const DEFAULT_MESSAGES: ReadonlyMap<string, string> = new Map([
  ['JobDeadlineExceededError', 'Segmind reported no terminal status before the polling deadline'],
  ['States.Timeout', 'A workflow step ran past its timeout'],
  ['States.HeartbeatTimeout', 'A workflow step stopped sending heartbeats'],
  ['JobCancelledError', 'The job was cancelled'],
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A field of the object itself, never one inherited from its prototype. */
const ownField = (value: unknown, key: string): unknown =>
  isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;

/** Lines of a JavaScript, Java or Python stack trace: they belong in the logs, not in the job record. */
const STACK_LINE = /^\s*(at\s+\S|Traceback \(most recent call last\)|File ".*", line \d+)/;

const withoutStack = (text: string): string =>
  text
    .slice(0, MAX_PARSED_CAUSE_LENGTH)
    .split(/\r?\n/)
    .filter((line) => !STACK_LINE.test(line))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();

const MESSAGE_KEYS = ['errorMessage', 'message', 'Message', 'error', 'cause'] as const;
const STACK_KEYS: ReadonlySet<string> = new Set(['trace', 'stack', 'stackTrace', 'Trace']);

/** The human part of a parsed Cause: Lambda's `errorMessage`, or a message-like field, or the rest. */
const messageOf = (value: unknown, depth = 0): string | undefined => {
  if (typeof value === 'string') return value;
  if (!isRecord(value) || depth > 3) return undefined;
  for (const key of MESSAGE_KEYS) {
    if (!Object.hasOwn(value, key)) continue;
    const found = messageOf(value[key], depth + 1);
    if (found !== undefined && found.trim() !== '') return found;
  }
  if (Object.keys(value).every((key) => STACK_KEYS.has(key))) return undefined;
  try {
    return JSON.stringify(value, (key, field: unknown) => (STACK_KEYS.has(key) ? undefined : field));
  } catch {
    return undefined; // a cycle or a BigInt in a Cause that arrived as an object: no detail beats a throw
  }
};

/** The readable detail of a Cause, whatever its shape; undefined when there is none. */
export const causeDetail = (cause: unknown, depth = 0): string | undefined => {
  let detail: string | undefined;
  if (typeof cause === 'string') {
    const trimmed = cause.trim();
    detail = trimmed;
    if (depth < 2 && trimmed.length <= MAX_PARSED_CAUSE_LENGTH && /^[{"]/.test(trimmed)) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        // A JSON-encoded string may hold JSON again (a Cause passed through one more state).
        return typeof parsed === 'string'
          ? causeDetail(parsed, depth + 1)
          : causeDetail(messageOf(parsed), 2);
      } catch {
        // Not JSON after all: a plain message that happens to start with a brace or a quote.
      }
    }
  } else {
    detail = messageOf(cause);
  }
  if (detail === undefined) return undefined;
  const clean = withoutStack(detail);
  return clean === '' ? undefined : clean;
};

const capped = (text: string, max: number): string => {
  if (text.length <= max) return text;
  let cut = max - 1;
  // Do not split a surrogate pair and leave half an emoji behind.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
};

/** Segmind's 404 reads `Request <id> not found`; our client's message may carry the id as a UUID. */
const requestIdIn = (detail: string | undefined): string | undefined =>
  detail?.match(/[Rr]equest\s+([A-Za-z0-9][A-Za-z0-9_-]{5,})\s+not found/)?.[1] ??
  detail?.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i)?.[0];

const expiredMessage = (detail: string | undefined, context: FailureContext): string => {
  const requestId = context.segmindRequestId ?? requestIdIn(detail);
  const subject = requestId === undefined ? "this job's request" : `request ${requestId}`;
  const base = `Segmind no longer knows ${subject} (results are kept 1 hour)`;
  return detail === undefined ? base : `${base}: ${detail}`;
};

/** Maps a Catch result to the job's terminal status, its error code and a bounded, trace-free message. */
export const classifyFailure = (
  failure: WorkflowFailure,
  context: FailureContext = {},
): ClassifiedFailure => {
  const rawError: unknown = ownField(failure, 'Error');
  const errorName =
    typeof rawError === 'string' && rawError.trim() !== ''
      ? capped(rawError.trim(), MAX_ERROR_CODE_LENGTH)
      : 'UnknownError';
  const errorCode = CODE_BY_ERROR.get(errorName) ?? errorName;
  const status = STATUS_BY_ERROR.get(errorName) ?? 'FAILED';
  const detail = causeDetail(ownField(failure, 'Cause'));

  let message: string;
  if (status === 'EXPIRED') message = expiredMessage(detail, context);
  else if (errorCode === SUBMIT_OUTCOME_UNKNOWN) {
    // Said plainly first, whatever the detail: the caller may have been charged for nothing.
    message =
      detail === undefined ? SUBMIT_OUTCOME_UNKNOWN_NOTICE : `${SUBMIT_OUTCOME_UNKNOWN_NOTICE} (${detail})`;
  } else message = detail ?? DEFAULT_MESSAGES.get(errorName) ?? `${errorName} (no detail given)`;
  return { status, errorCode, errorMessage: capped(message, MAX_ERROR_MESSAGE_LENGTH) };
};
