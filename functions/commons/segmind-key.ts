// The Segmind API key, for the client's `apiKey` provider. On AWS it lives in Secrets Manager and is read
// through Powertools parameters (cached for five minutes, so a rotated key is picked up without a
// deploy and a warm container does not call Secrets Manager on every poll); locally it comes from
// SEGMIND_API_KEY. The key is never logged, and no error message here includes it.

import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { type SegmindKeySource, segmindKeySource } from '#commons/config';
import { registerSecret } from '#commons/redact';

/** How long a fetched secret value is reused, in seconds. */
export const SEGMIND_KEY_MAX_AGE_SECONDS = 300;

/**
 * The key could not be read. Raised before any request leaves, so no Segmind job can exist: Submit may
 * retry after it (Secrets Manager throttled or briefly unreachable) without risking a second paid job.
 */
export class SegmindKeyError extends Error {
  override readonly name = 'SegmindKeyError';
  readonly retryable = true;
  readonly submitOutcome = 'not-created';
}

type SecretReader = (name: string, options: { maxAge: number }) => Promise<unknown>;

const readSecret: SecretReader = (name, options) => getSecret(name, options);

/**
 * The key inside a secret's value: either the plain key, or a JSON object with an `apiKey` (or
 * `SEGMIND_API_KEY`) field — the shape a secret created from a CloudFormation template usually has.
 */
export const keyFromSecretValue = (value: unknown, secretName: string): string => {
  const text = value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new SegmindKeyError(`Secret ${secretName} has no string value holding the Segmind API key`);
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new SegmindKeyError(`Secret ${secretName} looks like JSON but does not parse`);
  }
  if (typeof parsed === 'object' && parsed !== null) {
    for (const field of ['apiKey', 'SEGMIND_API_KEY']) {
      const candidate: unknown = Reflect.get(parsed, field);
      if (typeof candidate === 'string' && candidate.trim() !== '') return candidate.trim();
    }
  }
  throw new SegmindKeyError(`Secret ${secretName} is a JSON object without an "apiKey" field`);
};

/** A provider of the current key, for `new SegmindClient({ apiKey })`. */
export const segmindApiKeyProvider = (
  source: SegmindKeySource = segmindKeySource(),
  read: SecretReader = readSecret,
): (() => Promise<string>) => {
  if (source.kind === 'env') {
    const { apiKey } = source;
    // Known to the log redaction from the start, whatever its shape.
    registerSecret(apiKey);
    return async () => apiKey;
  }
  const { secretName } = source;
  return async () => {
    let value: unknown;
    try {
      value = await read(secretName, { maxAge: SEGMIND_KEY_MAX_AGE_SECONDS });
    } catch (error) {
      const reason = error instanceof Error ? error.name : 'unknown error';
      throw new SegmindKeyError(`Could not read the Segmind API key from secret ${secretName} (${reason})`, {
        cause: error,
      });
    }
    const apiKey = keyFromSecretValue(value, secretName);
    registerSecret(apiKey);
    return apiKey;
  };
};
