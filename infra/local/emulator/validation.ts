// Validates a submit body the way Segmind does: every problem becomes a 400 whose message names the field.
// Unknown fields are ignored (Segmind passes extra parameters through to the model). Data URIs for
// `image` are refused: Segmind does not document them, and refusing keeps our client honest.

export const MAX_PROMPT_LENGTH = 5000;
const DURATIONS = [6, 8, 10] as const;
const RESOLUTIONS = ['1080p', '2k', '4k'] as const;

export interface ValidSubmit {
  prompt: string;
  duration: (typeof DURATIONS)[number];
  resolution: (typeof RESOLUTIONS)[number];
  generate_audio: boolean;
  image: string | null;
}

export type SubmitValidation = { ok: true; request: ValidSubmit } | { ok: false; error: string };

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
};

const isOneOf = <T>(values: readonly T[], value: unknown): value is T => values.includes(value as T);

export const validateSubmit = (body: unknown): SubmitValidation => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'Request body must be a JSON object' };
  }
  const fields = body as Record<string, unknown>;
  const errors: string[] = [];

  const { prompt } = fields;
  if (prompt === undefined || prompt === null) errors.push('prompt is required');
  else if (typeof prompt !== 'string') errors.push('prompt must be a string');
  else if (prompt.trim() === '') errors.push('prompt must not be empty');
  else if (prompt.length > MAX_PROMPT_LENGTH)
    errors.push(`prompt must be at most ${MAX_PROMPT_LENGTH} characters`);

  const duration = fields.duration ?? 8;
  if (!isOneOf(DURATIONS, duration)) errors.push('duration must be one of 6, 8, 10');

  const resolution = fields.resolution ?? '2k';
  if (!isOneOf(RESOLUTIONS, resolution)) errors.push('resolution must be one of 1080p, 2k, 4k');

  const generateAudio = fields.generate_audio ?? true;
  if (typeof generateAudio !== 'boolean') errors.push('generate_audio must be a boolean');

  const image = fields.image ?? null;
  if (image !== null && (typeof image !== 'string' || !isHttpUrl(image))) {
    errors.push('image must be an http(s) URL');
  }

  if (errors.length > 0) return { ok: false, error: errors.join('; ') };
  return {
    ok: true,
    request: {
      prompt: prompt as string,
      duration: duration as ValidSubmit['duration'],
      resolution: resolution as ValidSubmit['resolution'],
      generate_audio: generateAudio as boolean,
      image: image as string | null,
    },
  };
};
