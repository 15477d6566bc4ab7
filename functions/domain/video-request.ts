// The one schema of a video request: the source of the TypeScript type, the API's request model and
// every validation message. Defaults match Segmind's own (8 s, 2k, with audio).
import * as z from 'zod';

export const DURATIONS = [6, 8, 10] as const;
export const RESOLUTIONS = ['1080p', '2k', '4k'] as const;
/** Lightricks' upstream limit on prompt length. */
export const MAX_PROMPT_LENGTH = 5000;

export type Duration = (typeof DURATIONS)[number];
export type Resolution = (typeof RESOLUTIONS)[number];

export const videoRequestSchema = z
  .object({
    prompt: z
      .string({ error: 'prompt must be a string' })
      .trim()
      .min(1, 'prompt must not be empty')
      .max(MAX_PROMPT_LENGTH, `prompt must be at most ${MAX_PROMPT_LENGTH} characters`),
    duration: z
      .union(
        DURATIONS.map((d) => z.literal(d)),
        { error: 'duration must be one of 6, 8, 10 (seconds)' },
      )
      .default(8),
    resolution: z.enum(RESOLUTIONS, { error: 'resolution must be one of 1080p, 2k, 4k' }).default('2k'),
    generateAudio: z.boolean({ error: 'generateAudio must be true or false' }).default(true),
    imageUrl: z.url({ protocol: /^https?$/, error: 'imageUrl must be an http(s) URL' }).optional(),
  })
  .strict();

/** A validated request, defaults applied. */
export type VideoRequest = z.output<typeof videoRequestSchema>;
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
