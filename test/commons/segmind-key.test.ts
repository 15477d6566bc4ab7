// Where the Segmind API key comes from, and that a failure to read it says so without leaking it.

import { describe, expect, it, vi } from 'vitest';
import { ConfigError, parseSegmindKeySource } from '#commons/config';
import {
  keyFromSecretValue,
  SEGMIND_KEY_MAX_AGE_SECONDS,
  SegmindKeyError,
  segmindApiKeyProvider,
} from '#commons/segmind-key';

const getSecret = vi.hoisted(() =>
  vi.fn(async (_name: string, _options: unknown): Promise<unknown> => 'SG_fromsecret00000'),
);
vi.mock('@aws-lambda-powertools/parameters/secrets', () => ({ getSecret }));

describe('parseSegmindKeySource', () => {
  it('prefers the Secrets Manager secret (AWS) over a plain key (local)', () => {
    expect(
      parseSegmindKeySource({ SEGMIND_API_KEY_SECRET_NAME: 'ltx/segmind', SEGMIND_API_KEY: 'SG_x' }),
    ).toEqual({
      kind: 'secret',
      secretName: 'ltx/segmind',
    });
    expect(parseSegmindKeySource({ SEGMIND_API_KEY: ' SG_local ' })).toEqual({
      kind: 'env',
      apiKey: 'SG_local',
    });
  });

  it('names both variables when neither is set', () => {
    let error: unknown;
    try {
      parseSegmindKeySource({ SEGMIND_API_KEY: '  ' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/SEGMIND_API_KEY_SECRET_NAME.*SEGMIND_API_KEY/);
  });
});

describe('segmindApiKeyProvider', () => {
  it('reads the secret through Powertools, cached for five minutes', async () => {
    const key = segmindApiKeyProvider({ kind: 'secret', secretName: 'ltx/segmind' });
    expect(await key()).toBe('SG_fromsecret00000');
    expect(getSecret).toHaveBeenCalledWith('ltx/segmind', { maxAge: SEGMIND_KEY_MAX_AGE_SECONDS });
    expect(SEGMIND_KEY_MAX_AGE_SECONDS).toBe(300);
  });

  it('uses the local key as is', async () => {
    expect(await segmindApiKeyProvider({ kind: 'env', apiKey: 'SG_local' })()).toBe('SG_local');
  });

  it('turns a failed read into SegmindKeyError, which proves no job was created', async () => {
    const key = segmindApiKeyProvider({ kind: 'secret', secretName: 'ltx/segmind' }, async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    });
    const error = await key().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SegmindKeyError);
    expect(error).toMatchObject({ submitOutcome: 'not-created', retryable: true });
    expect((error as Error).message).toContain('ThrottlingException');
  });
});

describe('keyFromSecretValue', () => {
  it('accepts a plain key, bytes, or a JSON object with an apiKey field', () => {
    expect(keyFromSecretValue(' SG_abc \n', 's')).toBe('SG_abc');
    expect(keyFromSecretValue(new TextEncoder().encode('SG_bytes'), 's')).toBe('SG_bytes');
    expect(keyFromSecretValue('{"apiKey":"SG_json"}', 's')).toBe('SG_json');
    expect(keyFromSecretValue('{"SEGMIND_API_KEY":"SG_env_style"}', 's')).toBe('SG_env_style');
  });

  it('refuses an empty or unusable secret without echoing its content', () => {
    expect(() => keyFromSecretValue(undefined, 'ltx/segmind')).toThrow(/ltx\/segmind/);
    expect(() => keyFromSecretValue('   ', 's')).toThrow(SegmindKeyError);
    expect(() => keyFromSecretValue('{"token":"SG_secret_value"}', 's')).toThrow(/apiKey/);
    expect(() => keyFromSecretValue('{"token":"SG_secret_value"}', 's')).not.toThrow(/SG_secret_value/);
    expect(() => keyFromSecretValue('{not json SG_secret', 's')).not.toThrow(/SG_secret/);
  });
});
