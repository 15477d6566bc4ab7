// Errors the workflow itself raises (Segmind's own live in #segmind/errors). Their `name`s are matched
// by the state machine's Retry/Catch rules and mapped to a terminal job status by the failure recorder.

export abstract class WorkflowError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A submit may have reached Segmind but we never learned its request id (a lost connection, a timeout,
 * or an earlier attempt that died mid-POST). Another POST could create a second paid job, so we stop.
 */
export class SubmitOutcomeUnknownError extends WorkflowError {
  override readonly name = 'SubmitOutcomeUnknownError';
  readonly retryable = false;
}

/**
 * Taking a slot of the request budget kept losing races to other callers. Raised before any request to
 * Segmind left, so another attempt (a Retry) is always safe.
 */
export class RequestBudgetContentionError extends WorkflowError {
  override readonly name = 'RequestBudgetContentionError';
  readonly retryable = true;
}

/** The polling policy's hard deadline passed before Segmind reported a terminal status. */
export class JobDeadlineExceededError extends WorkflowError {
  override readonly name = 'JobDeadlineExceededError';
  readonly retryable = false;
}

/** The job was cancelled while it ran; whatever Segmind produced is discarded. */
export class JobCancelledError extends WorkflowError {
  override readonly name = 'JobCancelledError';
  readonly retryable = false;
}

/** The job record does not exist (or is not in a state this step can act on). */
export class JobStateError extends WorkflowError {
  override readonly name = 'JobStateError';
  readonly retryable = false;
}

/**
 * The video download broke off (network error, truncated body). StoreVideo answers "fetch the result and
 * download again" until the retention deadline, then fails the job with it.
 */
export class VideoTransferError extends WorkflowError {
  override readonly name = 'VideoTransferError';
  readonly retryable = true;
}

/**
 * The downloaded bytes are not the promised video: wrong size, not a sound MP4, not the requested frame size,
 * duration or audio. Downloaded again (a fresh result) like a VideoTransferError, since Segmind's file may be
 * fine and the copy bad; at the retention deadline the job fails with it.
 */
export class VideoIntegrityError extends WorkflowError {
  override readonly name = 'VideoIntegrityError';
  readonly retryable = true;
}

/** The video URL points somewhere we refuse to fetch from (not https, or a private/loopback address). */
export class UnsafeVideoUrlError extends WorkflowError {
  override readonly name = 'UnsafeVideoUrlError';
  readonly retryable = false;
}

/** The video request breaks the schema. Retrying cannot help; the message names the offending field. */
export class InvalidVideoRequestError extends WorkflowError {
  override readonly name = 'InvalidVideoRequestError';
  readonly retryable = false;
  /** The dotted path of the first offending field, e.g. `duration` (empty for the request as a whole). */
  readonly field: string;
  constructor(message: string, field: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}

/** A workflow step got a payload it cannot read: a wiring bug in the state machine, not a Segmind problem. */
export class InvalidPayloadError extends WorkflowError {
  override readonly name = 'InvalidPayloadError';
  readonly retryable = false;
}
