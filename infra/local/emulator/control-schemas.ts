// Schemas for the control API's inputs, over HTTP and in process alike: a typo in a test's fault or
// config fails loudly instead of silently doing nothing.
import * as z from 'zod';
import type { FailureRule, Fault } from '#emulator/control';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const range = z
  .tuple([nonNegative, nonNegative])
  .refine(([min, max]) => min <= max, 'range must be [min, max]');

export const latencyPatchSchema = z
  .object({
    queueMedianSeconds: nonNegative,
    queueSigma: nonNegative,
    inferenceBaseSeconds: positive,
    resolutionFactor: z.object({ '1080p': positive, '2k': positive, '4k': positive }).partial().strict(),
    durationFactor: z.object({ '6': positive, '8': positive, '10': positive }).partial().strict(),
    audioFactor: positive,
    imageFactor: positive,
    inferenceSigma: nonNegative,
    coldWorkerProbability: z.number().min(0).max(1),
    coldWorkerExtraSeconds: range,
    totalRangeSeconds: range,
  })
  .partial()
  .strict();

export const configPatchSchema = z
  .object({
    timeScale: positive,
    latency: latencyPatchSchema,
    rateLimitPerMinute: positive,
    retentionSeconds: positive,
    costPerJob: nonNegative,
  })
  .partial()
  .strict();

export type ConfigPatch = z.output<typeof configPatchSchema>;

const endpoint = z.enum(['submit', 'status', 'result', 'download', 'credits']);
// JSON cannot carry Infinity: null or "Infinity" stand for "until cleared".
const count = z.preprocess(
  (value) => (value === null || value === 'Infinity' ? Number.POSITIVE_INFINITY : value),
  z.union([z.number().int().positive(), z.literal(Number.POSITIVE_INFINITY)]),
);
const base = { endpoint, count: count.optional(), requestId: z.string().min(1).optional() };

export const faultSchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('http-error'),
    status: z.number().int().min(400).max(599),
    body: z.enum(['html', 'json', 'empty']),
  }),
  z.object({ ...base, kind: z.literal('rate-limit') }),
  z.object({ ...base, kind: z.literal('slow'), delayMs: z.number().int().nonnegative() }),
  z.object({ ...base, kind: z.literal('reset-before-accept') }),
  z.object({ ...base, kind: z.literal('reset-after-accept') }),
  z.object({ ...base, kind: z.literal('reset') }),
  z.object({ ...base, kind: z.literal('truncate'), bytes: z.number().int().nonnegative().optional() }),
  z.object({ ...base, kind: z.literal('corrupt') }),
  z.object({ ...base, kind: z.literal('wrong-content-type'), contentType: z.string().min(1) }),
  z.object({ ...base, kind: z.literal('empty-body') }),
  z.object({ ...base, kind: z.literal('non-json') }),
  z.object({ ...base, kind: z.literal('extra-fields') }),
  z.object({ ...base, kind: z.literal('missing-video-object') }),
  z.object({ ...base, kind: z.literal('unknown-status'), status: z.string().min(1) }),
  z.object({ ...base, kind: z.literal('missing-request-id') }),
]);

export const failureRuleSchema = z
  .object({
    promptContains: z.string().min(1).optional(),
    probability: z.number().min(0).max(1).optional(),
    kind: z.enum(['failed', 'content-blocked']),
    error: z.string().min(1).optional(),
  })
  .strict()
  .refine((rule) => rule.promptContains !== undefined || rule.probability !== undefined, {
    message: 'a failure rule needs promptContains or probability',
  });

export const creditsSchema = z.object({ apiKey: z.string().min(1), credits: nonNegative }).strict();

export const clockSchema = z.object({ advanceSeconds: nonNegative }).strict();

/** Parses or throws an Error whose message lists every problem. */
export const parseOrThrow = <T>(schema: z.ZodType<T>, input: unknown, what: string): T => {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new ControlInputError(`invalid ${what}: ${problems}`);
};

export class ControlInputError extends Error {
  override readonly name = 'ControlInputError';
}

export const parseFaults = (input: unknown): Fault[] =>
  (Array.isArray(input) ? input : [input]).map((fault): Fault => parseOrThrow(faultSchema, fault, 'fault'));

export const parseFailureRule = (input: unknown): FailureRule =>
  parseOrThrow(failureRuleSchema, input, 'failure rule');
