// The job record in DynamoDB: one item per job, top-level attributes exactly as VideoJob (the state
// machine's RecordCompletion writes `status`, `video`, `completedAt`, … directly). Every change is one
// conditional write on one item — no transactions, which the local DynamoDB (dynalite) lacks — and the
// conditions carry the rules: a terminal status is never overwritten, a status never moves back, and
// only one caller ever holds the right to POST a job to Segmind.

import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#commons/aws-clients';
import { jobsConfig } from '#commons/config';
import type { CancelOutcome, JobCanceller } from '#domain/cancel-job';
import { JobCancelledError, JobStateError } from '#domain/errors';
import type { JobProgress, JobStore, RecordedError, SubmitClaim, TerminalFailure } from '#domain/job-store';
import type { ResumeClaims } from '#domain/sweep-jobs';
import {
  isTerminal,
  JOB_STATUSES,
  type JobStatus,
  type JobWaiting,
  type RateBudgetWait,
  type SegmindMetrics,
  type SubmittedJob,
  TERMINAL_STATUSES,
  type VideoJob,
} from '#domain/video-job';

export interface JobStoreOptions {
  client?: DynamoDBDocumentClient;
  tableName?: string;
}

const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** The item as a VideoJob, after checking the two attributes every decision here rests on. */
const toJob = (item: Record<string, unknown> | undefined): VideoJob | undefined => {
  if (item === undefined) return undefined;
  const { jobId, status } = item;
  if (typeof jobId !== 'string' || !(JOB_STATUSES as readonly unknown[]).includes(status)) {
    throw new JobStateError(`Job record ${String(jobId)} is malformed: status ${String(status)}`);
  }
  return item as unknown as VideoJob;
};

/** The part of a submit that the workflow carries on with, read back from a record that has it. */
export const submittedJobOf = (job: VideoJob): SubmittedJob | undefined => {
  const requestId = job.segmindRequestId;
  if (requestId === undefined) return undefined;
  return {
    requestId,
    // The client accepts a bare request id too, so a record missing its URLs still polls.
    statusUrl: job.statusUrl ?? requestId,
    responseUrl: job.responseUrl ?? requestId,
    submittedAt: job.submittedAt ?? job.updatedAt,
  };
};

interface Update {
  /** Attribute → value. */
  set?: Record<string, unknown>;
  /** Attribute → value written only when the attribute is absent (first time wins). */
  setIfAbsent?: Record<string, unknown>;
  /** Attribute → amount added, starting from 0. */
  increment?: Record<string, number>;
  remove?: readonly string[];
  /** Refers to attribute `x` as `#x` and to its own values as `:name`. */
  condition: string;
  values?: Record<string, unknown>;
}

/** An UpdateItem's expressions, with every attribute behind a `#name` (`status` is a reserved word). */
const expressionsOf = (update: Update) => {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ...update.values };
  const name = (attribute: string): string => {
    names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  };
  const clauses: string[] = [];
  for (const [attribute, value] of Object.entries(update.set ?? {})) {
    values[`:set_${attribute}`] = value;
    clauses.push(`${name(attribute)} = :set_${attribute}`);
  }
  for (const [attribute, value] of Object.entries(update.setIfAbsent ?? {})) {
    values[`:first_${attribute}`] = value;
    clauses.push(`${name(attribute)} = if_not_exists(${name(attribute)}, :first_${attribute})`);
  }
  for (const [attribute, amount] of Object.entries(update.increment ?? {})) {
    values[`:add_${attribute}`] = amount;
    values[':zero'] = 0;
    clauses.push(`${name(attribute)} = if_not_exists(${name(attribute)}, :zero) + :add_${attribute}`);
  }
  let expression = clauses.length > 0 ? `SET ${clauses.join(', ')}` : '';
  if (update.remove !== undefined && update.remove.length > 0) {
    expression += ` REMOVE ${update.remove.map(name).join(', ')}`;
  }
  for (const match of update.condition.matchAll(/#(\w+)/g)) {
    const attribute = match[1];
    if (attribute !== undefined) name(attribute);
  }
  return {
    UpdateExpression: expression.trim(),
    ConditionExpression: update.condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

const NOT_TERMINAL = `NOT (#status IN (${TERMINAL_STATUSES.map((s) => `:terminal_${s}`).join(', ')}))`;
const TERMINAL_VALUES = Object.fromEntries(TERMINAL_STATUSES.map((s) => [`:terminal_${s}`, s]));

/** The statuses a job may be in for a poll to move it to `target` (never back, never past STORING). */
const FORWARD_FROM: Record<'QUEUED' | 'PROCESSING', readonly JobStatus[]> = {
  QUEUED: ['PENDING', 'QUEUED'],
  PROCESSING: ['PENDING', 'QUEUED', 'PROCESSING'],
};

const iso = (at: Date): string => at.toISOString();

/** The statuses a cancel may end: everything before STORING (see cancel()). */
const CANCELLABLE = ['PENDING', 'QUEUED', 'PROCESSING'] as const satisfies readonly JobStatus[];

export class DynamoJobStore implements JobStore, JobCanceller, ResumeClaims {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async create(job: VideoJob): Promise<{ created: boolean; job: VideoJob }> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: job,
          ConditionExpression: 'attribute_not_exists(#jobId)',
          ExpressionAttributeNames: { '#jobId': 'jobId' },
        }),
      );
      return { created: true, job };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const existing = await this.get(job.jobId);
    if (existing === undefined) {
      throw new JobStateError(`Job ${job.jobId} exists and vanished while being read`);
    }
    return { created: false, job: existing };
  }

  async get(jobId: string): Promise<VideoJob | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { jobId }, ConsistentRead: true }),
    );
    return toJob(Item);
  }

  async claimSubmit(jobId: string, at: Date): Promise<SubmitClaim> {
    const job = await this.#update(jobId, {
      set: { submitState: 'IN_FLIGHT', updatedAt: iso(at) },
      increment: { submitAttempts: 1 },
      condition:
        'attribute_exists(#jobId) AND #status = :pending AND attribute_not_exists(#segmindRequestId) ' +
        'AND (attribute_not_exists(#submitState) OR #submitState = :notCreated)',
      values: { ':pending': 'PENDING', ':notCreated': 'NOT_CREATED' },
    });
    if (job !== undefined) return { kind: 'claimed', job };

    const current = await this.get(jobId);
    if (current === undefined) return { kind: 'missing' };
    if (isTerminal(current.status)) return { kind: 'terminal', status: current.status, job: current };
    const submitted = submittedJobOf(current);
    if (submitted !== undefined) return { kind: 'already-submitted', submitted, job: current };
    // IN_FLIGHT or UNKNOWN — or a record inconsistent enough that POSTing would be a gamble.
    return { kind: 'in-doubt', submitState: current.submitState ?? 'UNKNOWN', job: current };
  }

  async recordSubmitted(jobId: string, submitted: SubmittedJob, at: Date): Promise<VideoJob> {
    const submitFields = {
      submitState: 'ACCEPTED',
      segmindRequestId: submitted.requestId,
      statusUrl: submitted.statusUrl,
      responseUrl: submitted.responseUrl,
      updatedAt: iso(at),
    };
    const sameRequestOrNone = '(attribute_not_exists(#segmindRequestId) OR #segmindRequestId = :requestId)';
    const queued = await this.#update(jobId, {
      set: {
        ...submitFields,
        status: 'QUEUED',
        submittedAt: submitted.submittedAt,
        lastSegmindStatus: 'QUEUED',
      },
      remove: ['errorCode', 'errorMessage', 'rateBudgetWait'],
      condition: `#status = :pending AND ${sameRequestOrNone}`,
      values: { ':pending': 'PENDING', ':requestId': submitted.requestId },
    });
    if (queued !== undefined) return queued;

    // The job moved on meanwhile (cancelled, or this very write already landed on an earlier try): still
    // keep the request id — it is the only handle on a paid job — but leave the status alone.
    const kept = await this.#update(jobId, {
      set: submitFields,
      setIfAbsent: { submittedAt: submitted.submittedAt },
      condition: `attribute_exists(#jobId) AND ${sameRequestOrNone}`,
      values: { ':requestId': submitted.requestId },
    });
    if (kept !== undefined) return kept;

    const current = await this.get(jobId);
    if (current === undefined) {
      throw new JobStateError(
        `Job ${jobId} has no record to store Segmind request ${submitted.requestId} on`,
      );
    }
    throw new JobStateError(
      `Job ${jobId} already holds Segmind request ${String(current.segmindRequestId)}, ` +
        `yet Segmind also accepted ${submitted.requestId}`,
    );
  }

  async recordRateBudgetWait(jobId: string, wait: RateBudgetWait, at: Date): Promise<boolean> {
    const job = await this.#update(jobId, {
      set: { rateBudgetWait: wait, updatedAt: iso(at) },
      condition: '#status = :pending AND attribute_not_exists(#segmindRequestId)',
      values: { ':pending': 'PENDING' },
    });
    return job !== undefined;
  }

  async recordSubmitNotCreated(jobId: string, error: RecordedError, at: Date): Promise<boolean> {
    const job = await this.#update(jobId, {
      set: { submitState: 'NOT_CREATED', ...error, updatedAt: iso(at) },
      condition:
        '#status = :pending AND #submitState = :inFlight AND attribute_not_exists(#segmindRequestId)',
      values: { ':pending': 'PENDING', ':inFlight': 'IN_FLIGHT' },
    });
    return job !== undefined;
  }

  async recordSubmitUnknown(jobId: string, error: RecordedError, at: Date): Promise<boolean> {
    const job = await this.#update(jobId, {
      set: { submitState: 'UNKNOWN', ...error, updatedAt: iso(at) },
      condition: '#status = :pending AND attribute_not_exists(#segmindRequestId)',
      values: { ':pending': 'PENDING' },
    });
    return job !== undefined;
  }

  async recordProgress(jobId: string, progress: JobProgress): Promise<boolean> {
    const from = FORWARD_FROM[progress.status ?? 'PROCESSING'];
    const fromValues = Object.fromEntries(from.map((s) => [`:from_${s}`, s]));
    const job = await this.#update(jobId, {
      set: {
        ...(progress.status === undefined ? {} : { status: progress.status }),
        lastSegmindStatus: progress.lastSegmindStatus,
        pollCount: progress.pollCount,
        updatedAt: iso(progress.at),
      },
      ...(progress.status === 'PROCESSING' ? { setIfAbsent: { processingAt: iso(progress.at) } } : {}),
      condition:
        `#status IN (${Object.keys(fromValues).join(', ')}) ` +
        'AND (attribute_not_exists(#pollCount) OR #pollCount <= :pollCount)',
      values: { ...fromValues, ':pollCount': progress.pollCount },
    });
    return job !== undefined;
  }

  async recordWaiting(jobId: string, waiting: JobWaiting | undefined, at: Date): Promise<boolean> {
    const job = await this.#update(jobId, {
      set: { ...(waiting === undefined ? {} : { waiting }), updatedAt: iso(at) },
      ...(waiting === undefined ? { remove: ['waiting'] } : {}),
      condition: `attribute_exists(#jobId) AND ${NOT_TERMINAL}`,
      values: TERMINAL_VALUES,
    });
    return job !== undefined;
  }

  async recordMetrics(jobId: string, metrics: SegmindMetrics, at: Date): Promise<boolean> {
    const job = await this.#update(jobId, {
      set: { metrics, updatedAt: iso(at) },
      remove: ['waiting'],
      condition: 'attribute_exists(#jobId)',
    });
    return job !== undefined;
  }

  async markStoring(jobId: string, at: Date): Promise<VideoJob> {
    const job = await this.#update(jobId, {
      set: { status: 'STORING', updatedAt: iso(at) },
      setIfAbsent: { storingAt: iso(at) },
      condition: `attribute_exists(#jobId) AND ${NOT_TERMINAL}`,
      values: TERMINAL_VALUES,
    });
    if (job !== undefined) return job;

    const current = await this.get(jobId);
    if (current === undefined) throw new JobStateError(`Job ${jobId} has no record`);
    if (current.status === 'CANCELLED') {
      throw new JobCancelledError(`Job ${jobId} was cancelled; its video is discarded`);
    }
    throw new JobStateError(`Job ${jobId} already ended as ${current.status}; not storing its video again`);
  }

  async recordFailure(jobId: string, failure: TerminalFailure, at: Date): Promise<VideoJob | undefined> {
    const job = await this.#update(jobId, {
      set: {
        status: failure.status,
        errorCode: failure.errorCode,
        errorMessage: failure.errorMessage,
        ...(failure.pollCount === undefined ? {} : { pollCount: failure.pollCount }),
        failedAt: iso(at),
        updatedAt: iso(at),
      },
      condition: `attribute_exists(#jobId) AND ${NOT_TERMINAL}`,
      values: TERMINAL_VALUES,
    });
    // Already terminal (or missing): the record stays as it is, and the caller learns how it ended.
    return job ?? (await this.get(jobId));
  }

  /**
   * Cancellation through the API (see #domain/cancel-job): CANCELLED only from PENDING, QUEUED or PROCESSING.
   * A STORING job is paid for and being copied: it finishes COMPLETED. This write and markStoring are both
   * conditional on the same item, so exactly one of them wins and no object is ever stored for a CANCELLED job.
   */
  async cancel(jobId: string, at: Date, reason: string): Promise<CancelOutcome> {
    const job = await this.#update(jobId, {
      set: {
        status: 'CANCELLED',
        errorCode: 'JobCancelledError',
        errorMessage: reason,
        cancelledAt: iso(at),
        updatedAt: iso(at),
      },
      condition: `#status IN (${CANCELLABLE.map((s) => `:cancellable_${s}`).join(', ')})`,
      values: Object.fromEntries(CANCELLABLE.map((s) => [`:cancellable_${s}`, s])),
    });
    if (job !== undefined) return { kind: 'cancelled', job };
    const current = await this.get(jobId);
    if (current === undefined) return { kind: 'missing' };
    if (isTerminal(current.status)) return { kind: 'already-ended', status: current.status, job: current };
    if (current.status === 'STORING') return { kind: 'storing', job: current };
    // Neither missing nor ended, yet the condition failed: the record appeared between the two calls.
    throw new JobStateError(`Job ${jobId} changed while being cancelled; try again`);
  }

  /** The sweeper's claim on a job to resume (see #domain/sweep-jobs ResumeClaims). */
  async claimResume(
    jobId: string,
    claim: { expected: string | undefined; executionName: string; resumeCount: number },
    at: Date,
  ): Promise<VideoJob | undefined> {
    return this.#update(jobId, {
      set: { executionName: claim.executionName, resumeCount: claim.resumeCount, updatedAt: iso(at) },
      condition:
        `attribute_exists(#jobId) AND ${NOT_TERMINAL} AND ` +
        (claim.expected === undefined
          ? 'attribute_not_exists(#executionName)'
          : '#executionName = :expectedExecution'),
      values: {
        ...TERMINAL_VALUES,
        ...(claim.expected === undefined ? {} : { ':expectedExecution': claim.expected }),
      },
    });
  }

  /** The record after the update, or undefined when the condition did not hold. */
  async #update(jobId: string, update: Update): Promise<VideoJob | undefined> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { jobId },
          ...expressionsOf(update),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toJob(Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}

/** The store the Lambdas use: the shared per-container client and the table from JOBS_TABLE_NAME. */
export const createJobStore = (options: JobStoreOptions = {}): DynamoJobStore =>
  new DynamoJobStore(
    options.client ?? dynamoDocumentClient(),
    options.tableName ?? jobsConfig().jobsTableName,
  );
