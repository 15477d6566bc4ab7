// The one error hierarchy for everything Segmind can do to us. The `name`s are a public contract:
// the state machine's Retry and Catch rules match on them, so never rename one without the other.

/** Whether a failed submit can have created a (billable) job at Segmind. */
export type SubmitOutcome = 'not-created' | 'may-exist';

export interface SegmindErrorOptions {
  cause?: unknown;
  httpStatus?: number;
  /** The request id the failing call was about, when there was one. */
  requestId?: string;
}

export abstract class SegmindError extends Error {
  /** True when the same call may simply be made again later. */
  abstract readonly retryable: boolean;
  /**
   * For a failed submit: could Segmind have created the job anyway? Errors raised before a byte was sent
   * or answered explicitly by Segmind prove it was not; a lost connection or a timeout after sending does not.
   */
  readonly submitOutcome: SubmitOutcome;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;

  protected constructor(message: string, submitOutcome: SubmitOutcome, options: SegmindErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.submitOutcome = submitOutcome;
    this.httpStatus = options.httpStatus;
    this.requestId = options.requestId;
  }
}

/** 401 / 403: the key is missing, wrong or lacks permission. Retrying cannot help. */
export class SegmindAuthError extends SegmindError {
  override readonly name = 'SegmindAuthError';
  readonly retryable = false;
  constructor(message: string, options?: SegmindErrorOptions) {
    super(message, 'not-created', options);
  }
}

/** 406: out of credits (Segmind also uses 406 for a spend limit or a wrong Content-Type). */
export class SegmindInsufficientCreditsError extends SegmindError {
  override readonly name = 'SegmindInsufficientCreditsError';
  readonly retryable = false;
  constructor(message: string, options?: SegmindErrorOptions) {
    super(message, 'not-created', options);
  }
}

/** 429: too many requests. `resetAt` comes from `x-rate-limit-reset-at-utc` when Segmind sends it. */
export class SegmindRateLimitedError extends SegmindError {
  override readonly name = 'SegmindRateLimitedError';
  readonly retryable = true;
  readonly resetAt: Date | undefined;
  constructor(message: string, resetAt: Date | undefined, options?: SegmindErrorOptions) {
    super(message, 'not-created', options);
    this.resetAt = resetAt;
  }
}

/** 404 on a request id: unknown, or older than Segmind's one-hour retention. The result is lost. */
export class SegmindNotFoundError extends SegmindError {
  override readonly name = 'SegmindNotFoundError';
  readonly retryable = false;
  constructor(message: string, options?: SegmindErrorOptions) {
    super(message, 'not-created', options);
  }
}

/** 410, or 404 on the model endpoint: the model is retired or misnamed. A configuration problem. */
export class SegmindModelGoneError extends SegmindError {
  override readonly name = 'SegmindModelGoneError';
  readonly retryable = false;
  constructor(message: string, options?: SegmindErrorOptions) {
    super(message, 'not-created', options);
  }
}

/** 400 / 422 at submit: Segmind refused the request body. */
export class SegmindBadRequestError extends SegmindError {
  override readonly name = 'SegmindBadRequestError';
  readonly retryable = false;
  constructor(message: string, options?: SegmindErrorOptions) {
    super(message, 'not-created', options);
  }
}

/**
 * 500 / 502 / 503 / 504 or a network failure. On a submit, `submitOutcome` says whether Segmind may have
 * accepted the job before failing: a 502/504 or a non-JSON 5xx from a proxy, a reset after the body was sent.
 */
export class SegmindUnavailableError extends SegmindError {
  override readonly name = 'SegmindUnavailableError';
  readonly retryable = true;
  constructor(message: string, submitOutcome: SubmitOutcome, options?: SegmindErrorOptions) {
    super(message, submitOutcome, options);
  }
}

/** No answer within the connect or read timeout. After sending a submit, the job may exist. */
export class SegmindTimeoutError extends SegmindError {
  override readonly name = 'SegmindTimeoutError';
  readonly retryable = true;
  constructor(message: string, submitOutcome: SubmitOutcome, options?: SegmindErrorOptions) {
    super(message, submitOutcome, options);
  }
}

/** An answer we cannot read: not JSON, an HTML error page, too large, or missing a required field. */
export class SegmindMalformedResponseError extends SegmindError {
  override readonly name = 'SegmindMalformedResponseError';
  readonly retryable = true;
  constructor(message: string, submitOutcome: SubmitOutcome, options?: SegmindErrorOptions) {
    super(message, submitOutcome, options);
  }
}

/** Segmind ran the job and reports FAILED (HTTP 422 on status and result). Carries Segmind's own detail. */
export class SegmindJobFailedError extends SegmindError {
  override readonly name = 'SegmindJobFailedError';
  readonly retryable = false;
  readonly detail: string;
  constructor(detail: string, options?: SegmindErrorOptions) {
    super(`Segmind reported the job as FAILED: ${detail}`, 'not-created', options);
    this.detail = detail;
  }
}

export const SEGMIND_ERROR_NAMES = [
  'SegmindAuthError',
  'SegmindInsufficientCreditsError',
  'SegmindRateLimitedError',
  'SegmindNotFoundError',
  'SegmindModelGoneError',
  'SegmindBadRequestError',
  'SegmindUnavailableError',
  'SegmindTimeoutError',
  'SegmindMalformedResponseError',
  'SegmindJobFailedError',
] as const;

export type SegmindErrorName = (typeof SEGMIND_ERROR_NAMES)[number];

export const isSegmindError = (error: unknown): error is SegmindError => error instanceof SegmindError;
