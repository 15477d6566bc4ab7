// Submit: the one step that spends money. Segmind has no idempotency key and bills every POST, so the job
// record is claimed (IN_FLIGHT) before the POST and the request id stored before returning. A retried
// Lambda then finds either the request id (and carries on with it) or an in-flight/unknown submit (and
// stops with SubmitOutcomeUnknownError) — it never POSTs a second time unless Segmind proved the first
// POST created nothing.
import type { JobClock } from '#commons/clock';
import {
  InvalidVideoRequestError,
  JobCancelledError,
  JobStateError,
  SubmitOutcomeUnknownError,
  WorkflowError,
} from '#domain/errors';
import type { JobShape } from '#domain/expected-duration';
import { batchOwner, CLI_OWNER } from '#domain/job-owner';
import type { JobStore, RecordedError } from '#domain/job-store';
import { DEFAULT_POLLING_POLICY, nextPoll, type PollingPolicy } from '#domain/polling-policy';
import { possibleCostUsd } from '#domain/segmind-price';
import {
  isTerminal,
  type JobSource,
  type SubmitResult,
  type SubmittedJob,
  type VideoJob,
} from '#domain/video-job';
import {
  toSegmindRequest,
  type VideoRequest,
  validatedRequestShape,
  videoRequestSchema,
} from '#domain/video-request';
import { isSegmindError } from '#segmind/errors';
import type { SegmindApi } from '#segmind/types';

export const SUBMIT_OUTCOME_UNKNOWN_MESSAGE =
  'Segmind may have accepted the job but its request id is unknown; not re-submitting to avoid a second paid job';

export interface SubmitJobInput {
  jobId: string;
  /**
   * A request an entry point validated (API, upload, batch line, CLI); its shape is checked here before
   * anything else, so a wiring bug cannot send Segmind something that is not a request.
   */
  request: unknown;
  /** Used only if the workflow has to create the record itself (an execution started without one). */
  source?: JobSource;
  batchId?: string;
}

export interface SubmitJobDeps {
  store: JobStore;
  segmind: Pick<SegmindApi, 'submit'>;
  clock: JobClock;
  /** Jitter for the first poll; Math.random unless a test fixes it. */
  random?: () => number;
  policy?: PollingPolicy;
  /** Told once per job Segmind accepted (and will bill), after its request id is on the record. */
  onAccepted?: (submitted: SubmittedJob) => void;
  /**
   * Told once per submit whose outcome is unknown (Segmind may have created and billed a job we have no
   * request id for), with that job's estimated price: the metric and alarm behind SUBMIT_OUTCOME_UNKNOWN.
   */
  onOutcomeUnknown?: (unknown: UnknownSubmit) => void;
  /**
   * Opt-in (LTX_RESUBMIT_UNKNOWN_OUTCOME): after an unknown outcome, allow the workflow's retry to POST
   * again, accepting that Segmind may bill the job twice. Off by default: the job then ends
   * SUBMIT_OUTCOME_UNKNOWN and is never paid for twice.
   */
  resubmitUnknown?: boolean;
}

export interface UnknownSubmit {
  jobId: string;
  /** The estimated price of the job Segmind may have created (#domain/segmind-price). */
  possibleCostUsd: number;
  /** The error that left the outcome open: its name, or `IN_FLIGHT` for an attempt that died mid-POST. */
  reason: string;
  /** True when the opt-in lets the next attempt POST again. */
  resubmitting: boolean;
}

/** The request with defaults applied, or InvalidVideoRequestError naming every offending field. */
export const parseVideoRequest = (raw: unknown): VideoRequest => requestOrError(videoRequestSchema, raw);

/**
 * The workflow's own input: a request an entry point validated. Only its shape is checked (a wiring bug),
 * not the rules again — see validatedRequestShape.
 */
export const readValidatedRequest = (raw: unknown): VideoRequest =>
  requestOrError(validatedRequestShape, raw);

const requestOrError = (
  schema: typeof videoRequestSchema | typeof validatedRequestShape,
  raw: unknown,
): VideoRequest => {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    return field === '' || issue.message.startsWith(field) ? issue.message : `${field}: ${issue.message}`;
  });
  const field = parsed.error.issues[0]?.path.map(String).join('.') ?? '';
  throw new InvalidVideoRequestError(`Invalid video request: ${problems.join('; ')}`, field);
};

/** What about a request drives how long Segmind takes — the polling policy's input. */
export const jobShapeOf = (request: VideoRequest): JobShape => ({
  resolution: request.resolution,
  duration: request.duration,
  generateAudio: request.generateAudio,
  hasImage: request.imageUrl !== undefined,
});

/**
 * Whether a failed POST provably created no job. Segmind's errors say so in `submitOutcome`; so may
 * errors raised before the request left (e.g. the API key could not be read), which carry the same field.
 */
const provedNotCreated = (error: unknown): boolean =>
  isSegmindError(error)
    ? error.submitOutcome === 'not-created'
    : error instanceof Error && Reflect.get(error, 'submitOutcome') === 'not-created';

const errorOf = (error: unknown): RecordedError =>
  error instanceof Error
    ? { errorCode: error.name, errorMessage: error.message }
    : { errorCode: 'UnknownError', errorMessage: String(error) };

const reportUnknown = (
  jobId: string,
  request: VideoRequest,
  reason: string,
  resubmitting: boolean,
  deps: SubmitJobDeps,
): void => {
  deps.onOutcomeUnknown?.({ jobId, possibleCostUsd: possibleCostUsd(request), reason, resubmitting });
};

/** Runs a bookkeeping write whose failure must not replace the error the caller is about to throw. */
const quietly = async (write: () => Promise<unknown>): Promise<void> => {
  try {
    await write();
  } catch {
    // The claim stays IN_FLIGHT, which forbids another POST: safe, if less informative.
  }
};

const refuseEnded = (job: VideoJob): never => {
  if (job.status === 'CANCELLED') {
    throw new JobCancelledError(`Job ${job.jobId} was cancelled before Segmind could run it`);
  }
  throw new JobStateError(`Job ${job.jobId} already ended as ${job.status}; not submitting it`);
};

const newRecord = (input: SubmitJobInput, request: VideoRequest, at: Date): VideoJob => ({
  jobId: input.jobId,
  status: 'PENDING',
  source: input.source ?? (input.batchId === undefined ? 'cli' : 'batch'),
  request,
  createdAt: at.toISOString(),
  updatedAt: at.toISOString(),
  ...(input.batchId === undefined
    ? { owner: CLI_OWNER }
    : { owner: batchOwner(input.batchId), batchId: input.batchId }),
});

/** The submit plus the time of the first poll, near when Segmind is expected to be done. */
const withFirstPoll = (submitted: SubmittedJob, request: VideoRequest, deps: SubmitJobDeps): SubmitResult => {
  const decision = nextPoll(
    {
      job: jobShapeOf(request),
      elapsedSeconds: Math.max(0, deps.clock.elapsedSeconds(submitted.submittedAt)),
      lastStatus: 'SUBMITTED',
      pollCount: 0,
      strikes: 0,
      random: (deps.random ?? Math.random)(),
    },
    deps.policy ?? DEFAULT_POLLING_POLICY,
  );
  // Past the deadline already (a very late retry): poll at once, and let PollStatus give up if still running.
  const seconds = decision.kind === 'wait' ? decision.seconds : 0;
  return { ...submitted, firstPollAt: deps.clock.at(seconds).toISOString() };
};

export const submitJob = async (input: SubmitJobInput, deps: SubmitJobDeps): Promise<SubmitResult> => {
  const request = readValidatedRequest(input.request);
  const { store, clock } = deps;

  let claim = await store.claimSubmit(input.jobId, clock.now());
  if (claim.kind === 'missing') {
    // An execution started without a record (e.g. a batch child): the workflow keeps its own books.
    await store.create(newRecord(input, request, clock.now()));
    claim = await store.claimSubmit(input.jobId, clock.now());
  }
  switch (claim.kind) {
    case 'missing':
      throw new JobStateError(`Job ${input.jobId} has no record and none could be created`);
    case 'terminal':
      return refuseEnded(claim.job);
    case 'already-submitted':
      return withFirstPoll(claim.submitted, request, deps);
    case 'in-doubt':
      // UNKNOWN was reported by the attempt that saw it; IN_FLIGHT means that attempt died before it could.
      if (claim.submitState === 'IN_FLIGHT') reportUnknown(input.jobId, request, 'IN_FLIGHT', false, deps);
      throw new SubmitOutcomeUnknownError(
        `${SUBMIT_OUTCOME_UNKNOWN_MESSAGE} (an earlier attempt left the submit ${claim.submitState})`,
      );
    case 'claimed':
      break;
  }

  let accepted: Awaited<ReturnType<SegmindApi['submit']>>;
  try {
    accepted = await deps.segmind.submit(toSegmindRequest(request));
  } catch (error) {
    if (provedNotCreated(error)) {
      await quietly(() => store.recordSubmitNotCreated(input.jobId, errorOf(error), clock.now()));
      throw error; // its name drives Step Functions' Retry, and the next attempt may POST again
    }
    // A timeout after sending, a reset connection, or anything we cannot classify: the job may exist.
    const { errorCode, errorMessage } = errorOf(error);
    if (deps.resubmitUnknown === true && isSegmindError(error) && error.retryable) {
      // Opted in to paying twice rather than failing: free the claim and let Step Functions' Retry POST again.
      reportUnknown(input.jobId, request, errorCode, true, deps);
      await quietly(() =>
        store.recordSubmitNotCreated(input.jobId, { errorCode, errorMessage }, clock.now()),
      );
      throw error;
    }
    reportUnknown(input.jobId, request, errorCode, false, deps);
    await quietly(() => store.recordSubmitUnknown(input.jobId, { errorCode, errorMessage }, clock.now()));
    throw new SubmitOutcomeUnknownError(`${SUBMIT_OUTCOME_UNKNOWN_MESSAGE} (${errorCode}: ${errorMessage})`, {
      cause: error,
    });
  }

  const submitted: SubmittedJob = {
    requestId: accepted.requestId,
    statusUrl: accepted.statusUrl,
    responseUrl: accepted.responseUrl,
    submittedAt: clock.now().toISOString(),
  };
  let job: VideoJob;
  try {
    job = await store.recordSubmitted(input.jobId, submitted, clock.now());
  } catch (error) {
    if (error instanceof WorkflowError) throw error;
    // The record still says IN_FLIGHT, so a retry will not POST again; the id goes into the execution
    // history through this message, the only place left to find the paid job by.
    throw new SubmitOutcomeUnknownError(
      `Segmind accepted the job as request ${accepted.requestId}, but recording the request id failed; ` +
        'not re-submitting to avoid a second paid job',
      { cause: error },
    );
  }
  deps.onAccepted?.(submitted);
  if (isTerminal(job.status)) return refuseEnded(job);
  return withFirstPoll(submitted, request, deps);
};
