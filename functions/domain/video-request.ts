// The one schema of a video request: the source of the TypeScript type, the API's request model and
// every validation message. Defaults match Segmind's own (8 s, 2k, with audio).
import * as z from 'zod';
import { imageUrlPolicy } from '#commons/config';
import { checkUrl } from '#domain/url-safety';

export const DURATIONS = [6, 8, 10] as const;
export const RESOLUTIONS = ['1080p', '2k', '4k'] as const;
/** Lightricks' upstream limit on prompt length. */
export const MAX_PROMPT_LENGTH = 5000;

/**
 * C0 and C1 control characters and DEL, except tab and newline: a prompt is text for a model, and NUL, ESC
 * or a carriage return in it is either a client bug or an attempt to smuggle something into logs or
 * terminals. The pattern is written out so that JSON Schema (the OpenAPI document) carries the same rule.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
const PROMPT_TEXT = /^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$/;
const PROMPT_TEXT_MESSAGE =
  'prompt must not contain control characters (U+0000 to U+001F, U+007F to U+009F) other than tab and newline';

/** A lone UTF-16 surrogate cannot be encoded as UTF-8: Segmind, DynamoDB and the logs would each mangle it. */
const isWellFormedText = (text: string): boolean =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

export type Duration = (typeof DURATIONS)[number];
export type Resolution = (typeof RESOLUTIONS)[number];

export const videoRequestSchema = z
  .object({
    prompt: z
      .string({ error: 'prompt must be a string' })
      .trim()
      .min(1, 'prompt must not be empty')
      .max(MAX_PROMPT_LENGTH, `prompt must be at most ${MAX_PROMPT_LENGTH} characters`)
      .regex(PROMPT_TEXT, PROMPT_TEXT_MESSAGE)
      .refine(isWellFormedText, 'prompt must be valid Unicode text: it holds a lone UTF-16 surrogate'),
    duration: z
      .union(
        DURATIONS.map((d) => z.literal(d)),
        { error: 'duration must be one of 6, 8, 10 (seconds)' },
      )
      .default(8),
    resolution: z.enum(RESOLUTIONS, { error: 'resolution must be one of 1080p, 2k, 4k' }).default('2k'),
    generateAudio: z.boolean({ error: 'generateAudio must be true or false' }).default(true),
    imageUrl: z
      .url({ protocol: /^https?$/, error: 'imageUrl must be an http(s) URL', abort: true })
      // Syntax and literal addresses only (sync); the API also resolves the host (#adapters/url-guard).
      .check((ctx) => {
        const verdict = checkUrl(ctx.value, imageUrlPolicy());
        if (!verdict.ok)
          ctx.issues.push({ code: 'custom', message: `imageUrl ${verdict.reason}`, input: ctx.value });
      })
      .optional(),
  })
  .strict();

/** A validated request, defaults applied. */
export type VideoRequest = z.output<typeof videoRequestSchema>;

/**
 * The shape of a request an entry point already validated with videoRequestSchema (defaults applied), for
 * the workflow to read its own input with. It guards against a wiring bug (an execution started with some
 * other input), not against callers: the rules (prompt text, length, URL) are checked once, where a request
 * comes in, and are not repeated here — TypeScript holds this shape to VideoRequest.
 */
export const validatedRequestShape = z
  .object({
    prompt: z.string().min(1),
    duration: z.union(DURATIONS.map((d) => z.literal(d))),
    resolution: z.enum(RESOLUTIONS),
    generateAudio: z.boolean(),
    imageUrl: z.string().optional(),
  })
  .strict() satisfies z.ZodType<VideoRequest>;
/** What a caller may send. */
export type VideoRequestInput = z.input<typeof videoRequestSchema>;

/** The body Segmind's `POST /v2/ltx-2-fast` takes. */
export interface SegmindVideoRequest {
  prompt: string;
  duration: Duration;
  resolution: Resolution;
  generate_audio: boolean;
  image?: string;
}

export const toSegmindRequest = (request: VideoRequest): SegmindVideoRequest => ({
  prompt: request.prompt,
  duration: request.duration,
  resolution: request.resolution,
  generate_audio: request.generateAudio,
  ...(request.imageUrl === undefined ? {} : { image: request.imageUrl }),
});
