// Configuration read once from the environment, failing with the name of what is missing.

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  imageUrlPolicy,
  jobsConfig,
  parseImageUrlPolicy,
  parseJobsConfig,
  parseVideoUrlPolicy,
} from '#commons/config';

afterEach(() => {
  vi.unstubAllEnvs();
  jobsConfig.reset();
});

describe('jobs configuration', () => {
  it('reads the table name, trimmed', () => {
    expect(parseJobsConfig({ JOBS_TABLE_NAME: ' jobs-table ' })).toEqual({ jobsTableName: 'jobs-table' });
  });

  it('names the missing variable', () => {
    expect(() => parseJobsConfig({})).toThrow(ConfigError);
    expect(() => parseJobsConfig({ JOBS_TABLE_NAME: '' })).toThrow(
      /Missing environment variable JOBS_TABLE_NAME/,
    );
  });

  it('is read once and frozen', () => {
    vi.stubEnv('JOBS_TABLE_NAME', 'first');
    const config = jobsConfig();
    vi.stubEnv('JOBS_TABLE_NAME', 'second');
    expect(jobsConfig()).toBe(config);
    expect(config.jobsTableName).toBe('first');
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe('where videos may be downloaded from', () => {
  it("is Segmind's own origin, whatever its port, and the configured extra hosts", () => {
    expect([...parseVideoUrlPolicy({ SEGMIND_BASE_URL: 'http://127.0.0.1:4010' }).allowedHosts]).toEqual([
      '127.0.0.1:4010',
    ]);
    expect([
      ...parseVideoUrlPolicy({
        SEGMIND_BASE_URL: 'https://segmind-proxy.corp.example/segmind/',
        LTX_ALLOWED_VIDEO_HOSTS: 'files.corp.example:8443',
      }).allowedHosts,
    ]).toEqual(['segmind-proxy.corp.example:443', 'files.corp.example:8443']);
    expect([...parseVideoUrlPolicy({}).allowedHosts]).toEqual(['api.segmind.com:443']);
  });

  it('fails at start-up, naming the variable, on a setting the download could not use', () => {
    expect(() => parseVideoUrlPolicy({ LTX_ALLOWED_VIDEO_HOSTS: 'files.corp.example' })).toThrow(
      new ConfigError('LTX_ALLOWED_VIDEO_HOSTS: "files.corp.example" is not a host:port pair'),
    );
    expect(() => parseVideoUrlPolicy({ SEGMIND_BASE_URL: 'https://user:pw@proxy.example' })).toThrow(
      /SEGMIND_BASE_URL must not carry credentials/,
    );
  });
});

describe('which image URLs may name a local server', () => {
  it('is only what LTX_ALLOWED_IMAGE_HOSTS lists (the local s3rver), nothing on AWS', () => {
    expect(parseImageUrlPolicy({}).allowedHosts.size).toBe(0);
    expect([...parseImageUrlPolicy({ LTX_ALLOWED_IMAGE_HOSTS: '127.0.0.1:4569' }).allowedHosts]).toEqual([
      '127.0.0.1:4569',
    ]);
    expect(() => parseImageUrlPolicy({ LTX_ALLOWED_IMAGE_HOSTS: '127.0.0.1' })).toThrow(ConfigError);
  });

  it('follows the variable when it changes (the schema is used before the local stack sets it)', () => {
    vi.stubEnv('LTX_ALLOWED_IMAGE_HOSTS', '');
    expect(imageUrlPolicy().allowedHosts.size).toBe(0);
    vi.stubEnv('LTX_ALLOWED_IMAGE_HOSTS', '127.0.0.1:4569');
    expect([...imageUrlPolicy().allowedHosts]).toEqual(['127.0.0.1:4569']);
  });
});
