// The batch Lambdas' configuration, parsed once into a frozen object: the batches table, the jobs table
// (whose records the summary reads) and the bucket that holds manifests and each batch's files.
import { ConfigError } from '#commons/config';
import { ENV } from '#commons/env';

export interface BatchConfig {
  batchesTableName: string;
  jobsTableName: string;
  /** The videos bucket: manifests under `manifests/`, batch files under `batches/`. */
  bucket: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const required = (env: Env, name: string, what: string): string => {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Missing environment variable ${name} (${what})`);
  return value;
};

export const parseBatchConfig = (env: Env): BatchConfig => ({
  batchesTableName: required(env, ENV.batchesTable, 'the DynamoDB table of batch records'),
  jobsTableName: required(env, ENV.jobsTable, 'the DynamoDB table of job records'),
  bucket: required(env, ENV.videosBucket, 'the bucket of manifests and batch files'),
});

let config: Readonly<BatchConfig> | undefined;

/** Memoised; call at a handler's module scope so a missing variable fails the cold start. */
export const batchConfig = (): Readonly<BatchConfig> => {
  config ??= Object.freeze(parseBatchConfig(process.env));
  return config;
};
