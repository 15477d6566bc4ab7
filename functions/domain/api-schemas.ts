// The API's inputs and outputs as zod schemas. The request body IS videoRequestSchema (one schema), and
// the same definitions produce the API Gateway request model and the OpenAPI document, so what the
// gateway checks, what the document promises and what the handlers accept cannot drift apart.
import * as z from 'zod';
import { JOB_ID_PATTERN } from '#domain/job-id';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '#domain/list-jobs';
import { WAITING_FOR_RATE_BUDGET } from '#domain/request-budget';
import { isTerminal, JOB_STATUSES, type VideoJob } from '#domain/video-job';
import { type VideoRequest, videoRequestSchema } from '#domain/video-request';

// ---- inputs ----

/** POST /videos body: the one schema of a video request, as is. */
export const createVideoBodySchema = videoRequestSchema;

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export const idempotencyKeySchema = z
  .string()
  .regex(
    /^[\x21-\x7E]{1,255}$/,
    `${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 visible ASCII characters (a UUID is a good choice)`,
  );

export const jobIdSchema = z
  .string()
  .regex(JOB_ID_PATTERN, 'jobId must be 1 to 80 letters, digits, hyphens or underscores');

const statusList = JOB_STATUSES.join(', ');

/** The query parameters of GET /videos, one schema each: the handler and the document both use these. */
export const listVideosParams = {
  status: z.enum(JOB_STATUSES, { error: `status must be one of ${statusList}` }),
  limit: z
    .int({ error: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
    .min(1, `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .max(MAX_PAGE_SIZE, `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1, 'cursor must not be empty').max(4096, 'cursor is not one this API issued'),
} as const;

/** A query string value is text: read whole numbers as numbers, leave anything else for the schema to refuse. */
const wholeNumberText = (value: unknown): unknown =>
  typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : value;

export const listVideosQuerySchema = z
  .object({
    status: listVideosParams.status.optional(),
    limit: z.preprocess(wholeNumberText, listVideosParams.limit),
    cursor: listVideosParams.cursor.optional(),
  })
  .strict();

// ---- outputs ----

const timestamp = (description: string) => z.string().meta({ format: 'date-time', description });

export const videoLinkSchema = z
  .object({
    url: z.string().meta({ format: 'uri', description: 'Presigned S3 GET URL of the MP4' }),
    expiresAt: timestamp('When the URL stops working'),
  })
  .strict();

export const jobViewSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(JOB_STATUSES),
    source: z.enum(['api', 'upload', 'batch', 'cli']),
    request: videoRequestSchema,
    createdAt: timestamp('When the job was created'),
    updatedAt: timestamp('When the record last changed'),
    batchId: z.string().optional(),
    segmindRequestId: z.string().optional(),
    submittedAt: timestamp('When Segmind accepted the job').optional(),
    processingAt: timestamp('When Segmind started rendering').optional(),
    storingAt: timestamp('When the copy into S3 began').optional(),
    completedAt: timestamp('When the video was stored').optional(),
    failedAt: timestamp('When the job failed').optional(),
    cancelledAt: timestamp('When the job was cancelled').optional(),
    pollCount: z.int().optional(),
    waiting: z
      .object({
        for: z.literal(WAITING_FOR_RATE_BUDGET),
        place: z.int().meta({ description: '1 = next in line among the submits waiting for the budget' }),
        until: timestamp('When the job next tries for a slot'),
      })
      .strict()
      .optional()
      .meta({
        description:
          "Present while a PENDING job waits for a slot of the shared Segmind request budget (the plan's requests per minute)",
      }),
    video: z
      .object({
        bucket: z.string(),
        key: z.string(),
        bytes: z.int(),
        sha256: z.string(),
        contentType: z.string(),
      })
      .strict()
      .optional(),
    metrics: z
      .object({
        inferenceTime: z.number().optional(),
        queueTime: z.number().optional(),
        totalTime: z.number().optional(),
        cost: z.number().optional(),
        remainingCredits: z.number().optional(),
      })
      .strict()
      .optional(),
    retrying: z
      .object({
        reason: z.string().meta({
          description:
            'Why: rate-limited, upstream-unavailable, result-not-ready, video-transfer-failed, video-invalid, ...',
        }),
        until: timestamp('When the step is tried again'),
        detail: z.string().optional(),
      })
      .strict()
      .optional()
      .meta({
        description:
          'Present while a running job waits to try a step again (Segmind throttled or failed, or a bad download)',
      }),
    error: z
      .object({ code: z.string(), message: z.string() })
      .strict()
      .optional()
      .meta({ description: 'Why the job ended without a video (FAILED, EXPIRED, TIMED_OUT, CANCELLED)' }),
    links: z
      .object({
        self: z.string().meta({ description: 'Path of this job (GET it to poll, DELETE it to cancel)' }),
        video: videoLinkSchema.optional().meta({ description: 'Present once the job is COMPLETED' }),
      })
      .strict(),
  })
  .strict();
export type JobView = z.output<typeof jobViewSchema>;

export const createdJobSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(JOB_STATUSES),
    links: z.object({ self: z.string() }).strict(),
  })
  .strict();
export type CreatedJob = z.output<typeof createdJobSchema>;

export const jobListSchema = z
  .object({
    items: z.array(jobViewSchema),
    nextCursor: z.string().nullable().meta({
      description: 'Pass as `cursor` (with the same `status`) for the next page; null on the last page',
    }),
  })
  .strict();
export type JobList = z.output<typeof jobListSchema>;

export const fieldErrorSchema = z
  .object({
    field: z
      .string()
      .meta({ description: 'The body field, query parameter, path parameter or header at fault' }),
    message: z.string(),
  })
  .strict();
export type FieldError = z.output<typeof fieldErrorSchema>;

export const errorBodySchema = z
  .object({
    error: z
      .object({
        code: z.string().meta({ description: 'Stable, machine-readable: ValidationError, NotFound, …' }),
        message: z.string(),
        fields: z.array(fieldErrorSchema).optional(),
        requestId: z.string().optional().meta({ description: 'Quote it when reporting a problem' }),
      })
      .strict(),
  })
  .strict();
export type ErrorBody = z.output<typeof errorBodySchema>;

/**
 * A presigned image URL (an upload's, presigned by our Lambda) is a credential and carries the signer's
 * session token: callers see where the image is, not how to read it. Other query parameters stay.
 */
export const withoutPresignature = (request: VideoRequest): VideoRequest => {
  if (request.imageUrl === undefined) return request;
  const url = new URL(request.imageUrl);
  const signing = [...url.searchParams.keys()].filter((name) => /^x-amz-/i.test(name));
  if (signing.length === 0) return request;
  for (const name of signing) url.searchParams.delete(name);
  return { ...request, imageUrl: url.toString() };
};

/** The record as callers see it: bookkeeping of the workflow (submit state, Segmind URLs, hash) left out. */
export const toJobView = (job: VideoJob, links: JobView['links']): JobView => {
  const optional = <K extends keyof VideoJob>(...keys: K[]): Partial<Pick<VideoJob, K>> =>
    Object.fromEntries(keys.filter((k) => job[k] !== undefined).map((k) => [k, job[k]])) as Partial<
      Pick<VideoJob, K>
    >;
  return {
    jobId: job.jobId,
    status: job.status,
    source: job.source,
    request: withoutPresignature(job.request),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...optional(
      'batchId',
      'segmindRequestId',
      'submittedAt',
      'processingAt',
      'storingAt',
      'completedAt',
      'failedAt',
      'cancelledAt',
      'pollCount',
      'video',
      'metrics',
    ),
    ...(job.status === 'PENDING' && job.rateBudgetWait !== undefined
      ? { waiting: { for: WAITING_FOR_RATE_BUDGET, ...job.rateBudgetWait } }
      : {}),
    // A wait noted by a step that was then cut short (a cancel, a failure) means nothing once the job ended.
    ...(job.waiting === undefined || isTerminal(job.status) ? {} : { retrying: job.waiting }),
    ...(job.errorCode === undefined
      ? {}
      : { error: { code: job.errorCode, message: job.errorMessage ?? job.errorCode } }),
    links,
  };
};

// ---- validation messages ----

const describePath = (path: readonly PropertyKey[]): string => path.map(String).join('.');

const valueAt = (input: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );

export interface FieldErrorContext {
  /** Names the whole input when an issue has no path: `body`, `query`. */
  whole: string;
  /** What a key of the input is called in messages: `field`, `query parameter`. */
  keyKind: string;
  /** The keys the schema knows, listed when an unknown one arrives. */
  knownKeys: readonly string[];
}

/** Every problem zod found, each naming the field at fault, in words a caller can act on. */
export const fieldErrorsOf = (error: z.ZodError, input: unknown, context: FieldErrorContext): FieldError[] =>
  error.issues.flatMap((issue): FieldError[] => {
    const field = describePath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: field === '' ? key : `${field}.${key}`,
        message: `${key} is not a known ${context.keyKind}; expected one of ${context.knownKeys.join(', ')}`,
      }));
    }
    if (field === '') {
      const message =
        issue.code === 'invalid_type' && issue.expected === 'object'
          ? `the ${context.whole} must be a JSON object`
          : issue.message;
      return [{ field: context.whole, message }];
    }
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      return [{ field, message: `${field} is required` }];
    }
    return [{ field, message: issue.message }];
  });

// ---- JSON Schema for API Gateway and OpenAPI ----

type JsonSchemaNode = Record<string, unknown>;

/** `http` or `https`, any case — what videoRequestSchema's `imageUrl` protocol check accepts. */
const HTTP_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://';

/**
 * Makes zod's JSON Schema plain: an `anyOf` of single-value enums of one type becomes one enum (how
 * z.union of literals comes out), and a `uri` string gains the http(s) pattern the zod check enforces.
 * With `forGateway`, `format` is dropped: API Gateway's validator reads `uri` more strictly than the
 * WHATWG URL parser zod uses, and the gateway must never refuse a body the handler would accept.
 */
const simplify = (node: unknown, forGateway: boolean): unknown => {
  if (Array.isArray(node)) return node.map((n) => simplify(n, forGateway));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchemaNode = Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, simplify(v, forGateway)]),
  );
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0) {
    const members = anyOf as JsonSchemaNode[];
    const type = members[0]?.type;
    const valuesOf = (m: JsonSchemaNode): unknown[] | undefined =>
      Array.isArray(m.enum) ? m.enum : 'const' in m ? [m.const] : undefined;
    const single = members.every(
      (m) =>
        Object.keys(m).every((k) => k === 'type' || k === 'enum' || k === 'const') &&
        m.type === type &&
        valuesOf(m) !== undefined,
    );
    if (single) {
      delete out.anyOf;
      out.type = type;
      out.enum = members.flatMap((m) => valuesOf(m) ?? []);
    }
  }
  if (out.format === 'uri' && out.type === 'string' && out.pattern === undefined) {
    out.pattern = HTTP_URL_PATTERN;
    if (forGateway) delete out.format;
  }
  return out;
};

/** The POST /videos body model for API Gateway: JSON Schema draft 4, the dialect its validator speaks. */
export const gatewayRequestModel = (): JsonSchemaNode =>
  simplify(z.toJSONSchema(createVideoBodySchema, { target: 'draft-4', io: 'input' }), true) as JsonSchemaNode;

const withoutDialect = (node: JsonSchemaNode): JsonSchemaNode => {
  const { $schema: _dialect, $id: _id, ...rest } = node;
  return simplify(rest, false) as JsonSchemaNode;
};

/** One schema for the OpenAPI 3.1 document (JSON Schema 2020-12, the document's own dialect). */
export const openApiSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchemaNode =>
  withoutDialect(
    z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as JsonSchemaNode,
  );

/**
 * Named schemas for the document's `components.schemas`; where one contains another, it refers to it
 * (`$ref: #/components/schemas/<name>`) instead of repeating it.
 */
export const openApiComponents = (
  schemas: Readonly<Record<string, z.ZodType>>,
  io: 'input' | 'output',
): Record<string, JsonSchemaNode> => {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: converted } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'throw',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(converted).map(([id, schema]) => [id, withoutDialect(schema as JsonSchemaNode)]),
  );
};
