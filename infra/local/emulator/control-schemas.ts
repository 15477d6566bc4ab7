// Schemas for the control API's inputs, over HTTP and in process alike: a typo in a test's fault or
// config fails loudly instead of silently doing nothing.
import * as z from 'zod';
import type { FailureRule, Fault, RandomFaults } from '#emulator/control';

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
const errorBody = z.enum(['html', 'json', 'empty']);

// Each kind once, without its target: injected faults add endpoint/count/requestId, random ones do not.
const kinds = [
  z.object({ kind: z.literal('http-error'), status: z.number().int().min(400).max(599), body: errorBody }),
  z.object({ kind: z.literal('rate-limit') }),
  z.object({ kind: z.literal('slow'), delayMs: z.number().int().nonnegative() }),
  z.object({ kind: z.literal('reset-before-accept') }),
  z.object({ kind: z.literal('reset-after-accept') }),
  z.object({
    kind: z.literal('error-after-accept'),
    status: z.number().int().min(500).max(599),
    body: errorBody,
  }),
  z.object({ kind: z.literal('reset') }),
  z.object({ kind: z.literal('truncate'), bytes: z.number().int().nonnegative().optional() }),
  z.object({ kind: z.literal('corrupt') }),
  z.object({ kind: z.literal('wrong-content-type'), contentType: z.string().min(1) }),
  z.object({ kind: z.literal('empty-body') }),
  z.object({ kind: z.literal('non-json') }),
  z.object({ kind: z.literal('extra-fields') }),
  z.object({ kind: z.literal('missing-video-object') }),
  z.object({ kind: z.literal('unknown-status'), status: z.string().min(1) }),
  z.object({ kind: z.literal('missing-request-id') }),
] as const;

type KindSchema = (typeof kinds)[number];
const withTarget = <K extends KindSchema>(kind: K) => kind.extend(base);

export const faultSchema = z.discriminatedUnion(
  'kind',
  kinds.map(withTarget) as unknown as [ReturnType<typeof withTarget<KindSchema>>],
);

export const faultKindSchema = z.discriminatedUnion(
  'kind',
  kinds.map((kind) => kind.strict()) as unknown as [KindSchema],
);

const rate = z.number().min(0).max(1);
const perEndpoint = <T extends z.ZodType>(value: T) =>
  z
    .object({ submit: value, status: value, result: value, download: value, credits: value })
    .partial()
    .strict();

export const randomFaultsSchema = z
  .object({
    rate,
    kinds: perEndpoint(z.array(faultKindSchema).min(1)).optional(),
    rates: perEndpoint(rate).optional(),
    seed: z.number().int().optional(),
  })
  .strict();

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

export const parseRandomFaults = (input: unknown): RandomFaults =>
  parseOrThrow(randomFaultsSchema, input, 'random faults') as RandomFaults;
