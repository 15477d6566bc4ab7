// Configuration read once from the environment, failing with the name of what is missing.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, jobsConfig, parseJobsConfig } from '#commons/config';

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
