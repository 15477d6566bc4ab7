// Configuration: defaults, the environment variables, and start-up failures that name the variable.

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_READ_TIMEOUT_MS,
  resolveSegmindConfig,
  SegmindConfigError,
  segmindConfigFromEnv,
} from '#segmind/config';

describe('segmindConfigFromEnv', () => {
  it('defaults to the real Segmind API and the documented timeouts', () => {
    const config = segmindConfigFromEnv({});
    expect(config).toMatchObject({
      baseUrl: 'https://api.segmind.com',
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
      maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the base URL and limits from the environment', () => {
    expect(
      segmindConfigFromEnv({
        SEGMIND_BASE_URL: 'http://127.0.0.1:4010/',
        SEGMIND_CONNECT_TIMEOUT_MS: '250',
        SEGMIND_READ_TIMEOUT_MS: '9000',
        SEGMIND_MAX_RESPONSE_BYTES: '4096',
      }),
    ).toMatchObject({
      baseUrl: 'http://127.0.0.1:4010',
      connectTimeoutMs: 250,
      readTimeoutMs: 9000,
      maxResponseBytes: 4096,
    });
  });

  it.each([
    [{ SEGMIND_BASE_URL: 'ftp://example.com' }, 'SEGMIND_BASE_URL'],
    [{ SEGMIND_BASE_URL: 'not a url' }, 'SEGMIND_BASE_URL'],
    [{ SEGMIND_BASE_URL: 'https://user:pw@api.segmind.com' }, 'SEGMIND_BASE_URL'],
    [{ SEGMIND_CONNECT_TIMEOUT_MS: '5s' }, 'SEGMIND_CONNECT_TIMEOUT_MS'],
    [{ SEGMIND_READ_TIMEOUT_MS: '0' }, 'SEGMIND_READ_TIMEOUT_MS'],
    [{ SEGMIND_MAX_RESPONSE_BYTES: '999999999999' }, 'SEGMIND_MAX_RESPONSE_BYTES'],
  ])('refuses %j, naming %s', (env, name) => {
    expect(() => segmindConfigFromEnv(env)).toThrow(SegmindConfigError);
    expect(() => segmindConfigFromEnv(env)).toThrow(name);
  });
});

describe('resolveSegmindConfig', () => {
  it('keeps a path prefix and drops trailing slashes', () => {
    expect(resolveSegmindConfig({ baseUrl: 'https://proxy.example.com/segmind//' }).baseUrl).toBe(
      'https://proxy.example.com/segmind',
    );
  });

  it('refuses a model name that is not one path segment', () => {
    expect(resolveSegmindConfig({}).model).toBe('ltx-2-fast');
    expect(() => resolveSegmindConfig({ model: '../v1/other' })).toThrow(SegmindConfigError);
  });

  it('refuses a timeout that is not a positive whole number', () => {
    expect(() => resolveSegmindConfig({ connectTimeoutMs: 1.5 })).toThrow(SegmindConfigError);
    expect(() => resolveSegmindConfig({ readTimeoutMs: -1 })).toThrow(SegmindConfigError);
  });
});
