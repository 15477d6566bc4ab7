// Log redaction: URL query strings (presigned URLs), URL credentials, SigV4 parameters and the Segmind key
// leave no trace, in free text, nested objects and errors — through the handlers' own logger and wrapper.
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type * as Powertools from '#commons/powertools';
import { REDACTED, redactError, redactText, redactValue, registerSecret } from '#commons/redact';

const PRESIGNED =
  'https://uploads.s3.eu-west-1.amazonaws.com/uploads/fox.png?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  '&X-Amz-Credential=ASIAEXAMPLE%2F20261206%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261206T020000Z' +
  '&X-Amz-Expires=3600&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&X-Amz-Signature=0123456789abcdef' +
  '&X-Amz-SignedHeaders=host';

const leaks = (text: string): string[] =>
  ['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'ASIAEXAMPLE', '0123456789abcdef'].filter(
    (secret) => text.includes(secret),
  );

describe('redactText', () => {
  it('keeps scheme, host and path of a presigned URL and drops its query', () => {
    expect(redactText(`could not fetch ${PRESIGNED}.`)).toBe(
      `could not fetch https://uploads.s3.eu-west-1.amazonaws.com/uploads/fox.png?${REDACTED}`,
    );
  });

  it('leaves URLs without a query, and plain text, as written', () => {
    const text = 'GET https://api.segmind.com/v2/requests/2c7f59ea/status answered 429 (retry in 12 s)';
    expect(redactText(text)).toBe(text);
    expect(redactText('http://127.0.0.1:4567')).toBe('http://127.0.0.1:4567');
  });

  it('drops user:password and fragments of URLs, and URLs it cannot parse past their query', () => {
    expect(redactText('https://user:pa55@example.com/a.png')).toBe(`https://${REDACTED}@example.com/a.png`);
    expect(redactText('https://example.com/a.png#token=abc')).toBe(`https://example.com/a.png?${REDACTED}`);
    expect(redactText('http://[::1/x?X-Amz-Signature=abc')).toBe(`http://[::1/x?${REDACTED}`);
  });

  it('drops SigV4 parameters outside a URL: encoded URLs and bare query strings', () => {
    const encoded = `image=${encodeURIComponent(PRESIGNED)}`;
    expect(leaks(redactText(encoded))).toEqual([]);
    expect(leaks(redactText(PRESIGNED.split('?')[1] ?? ''))).toEqual([]);
  });

  it('drops the Segmind key in use, whatever its shape, and anything shaped like a Segmind key', () => {
    registerSecret('my-own-segmind-key-value');
    expect(redactText('key my-own-segmind-key-value refused')).toBe(`key ${REDACTED} refused`);
    expect(redactText('x-api-key: SG_0123456789abcdef')).toBe(`x-api-key: ${REDACTED}`);
  });

  it('leaves no signature of any presigned URL within any text (property)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc
          .tuple(fc.constantFrom('http', 'https'), fc.domain(), fc.stringMatching(/^(\/[\w.-]{1,12}){0,3}$/))
          .map(([scheme, host, path]) => `${scheme}://${host}${path}`),
        fc.stringMatching(/^[A-Za-z0-9%]{1,40}$/),
        fc.string(),
        (before, base, signature, after) => {
          const text = `${before} ${base}?X-Amz-Credential=${signature}&X-Amz-Signature=${signature} ${after}`;
          expect(leaks(redactText(text)).filter((l) => l.startsWith('X-Amz'))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('redactValue', () => {
  it('redacts credential fields whole and every string deep inside objects and arrays', () => {
    const value = {
      headers: { 'x-api-key': 'anything-at-all', Authorization: 'AWS4-HMAC-SHA256 Credential=…' },
      request: { prompt: 'a fox', imageUrl: PRESIGNED, frames: [PRESIGNED] },
      count: 3,
    };
    const redacted = redactValue(value);
    expect(redacted.headers).toEqual({ 'x-api-key': REDACTED, Authorization: REDACTED });
    expect(redacted.request.prompt).toBe('a fox');
    expect(redacted.count).toBe(3);
    expect(leaks(JSON.stringify(redacted))).toEqual([]);
  });
});

describe('redactError', () => {
  it('scrubs the message, stack and causes in place and keeps the name', () => {
    const cause = new Error(`GET ${PRESIGNED} failed`);
    const error = new Error(`Segmind could not read the image ${PRESIGNED}`, { cause });
    error.name = 'SegmindRequestError';
    redactError(error);
    expect(error.name).toBe('SegmindRequestError');
    expect(error.message).toBe(
      `Segmind could not read the image https://uploads.s3.eu-west-1.amazonaws.com/uploads/fox.png?${REDACTED}`,
    );
    expect(leaks(`${error.stack} ${cause.message} ${cause.stack}`)).toEqual([]);
  });
});

describe('the handlers’ logger and wrapper', () => {
  let powertools: typeof Powertools;
  let output: MockInstance<(...args: unknown[]) => void>[];
  const printed = () => output.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(' ')));

  beforeAll(async () => {
    // Written through the global console (dev mode), where the test reads it; every level on.
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
    powertools = await import('#commons/powertools');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  beforeEach(() => {
    output = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => undefined),
    );
  });

  it('prints no presigned URL or key from messages, nested objects, errors and their causes', () => {
    registerSecret('SG_fedcba9876543210');
    const { logger } = powertools;
    logger.info(`fetching ${PRESIGNED}`, { request: { imageUrl: PRESIGNED }, headers: { 'x-api-key': 'k' } });
    logger.error('Request failed', {
      error: new Error('Segmind said no to SG_fedcba9876543210', { cause: new Error(PRESIGNED) }),
    });
    logger.warn('as the second argument', new Error(`bad image ${PRESIGNED}`));
    const lines = printed();
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).toContain('uploads/fox.png');
    expect(leaks(lines.join('\n'))).toEqual([]);
    expect(lines.join('\n')).not.toContain('SG_fedcba9876543210');
  });

  it('logs events (POWERTOOLS_LOGGER_LOG_EVENT) redacted, and throws errors redacted with their name', async () => {
    const handler = powertools.lambdaHandler(async (event: { imageUrl: string }) => {
      const error = new Error(`could not download ${event.imageUrl}`);
      error.name = 'ImageUnreadableError';
      throw error;
    });
    const context = { functionName: 'submit', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60_000 };
    const thrown = await handler({ imageUrl: PRESIGNED }, context as unknown as Context).catch(
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe('ImageUnreadableError');
    expect((thrown as Error).message).toContain(`fox.png?${REDACTED}`);
    const lines = printed().join('\n');
    expect(lines).toContain('uploads/fox.png'); // the event was logged
    expect(leaks(`${lines}\n${(thrown as Error).stack}`)).toEqual([]);
  });
});
