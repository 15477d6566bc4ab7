// Environment variables parsed once into frozen, typed objects — one per need, so a Lambda only demands
// the variables it uses. Each getter is memoised: call it at a handler's module scope to fail at start-up
// with a message naming the missing variable, yet late enough that tests can set the environment first.
import { ENV } from '#commons/env';
import { DEFAULT_REQUESTS_PER_MINUTE } from '#domain/request-budget';
import { hostKeyOfUrl, parseHostList, type UrlPolicy } from '#domain/url-safety';
import { DEFAULT_SEGMIND_BASE_URL, normaliseBaseUrl } from '#segmind/config';

/** A variable is missing or unusable. Thrown at start-up (module scope), so the function never runs half-configured. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const optional = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

const required = (env: Env, name: string, what: string): string => {
  const value = optional(env, name);
  if (value === undefined) {
    throw new ConfigError(`Missing environment variable ${name} (${what})`);
  }
  return value;
};

/** Memoises a loader and freezes what it returns. `reset` is for tests that change the environment. */
const once = <T extends object>(load: (env: Env) => T): { (): Readonly<T>; reset(): void } => {
  let value: Readonly<T> | undefined;
  const get = (): Readonly<T> => {
    value ??= Object.freeze(load(process.env));
    return value;
  };
  return Object.assign(get, {
    reset: (): void => {
      value = undefined;
    },
  });
};

export interface JobsConfig {
  /** The DynamoDB table of job records (partition key `jobId`). */
  jobsTableName: string;
}

export const parseJobsConfig = (env: Env): JobsConfig => ({
  jobsTableName: required(env, ENV.jobsTable, 'the DynamoDB table of job records'),
});

export const jobsConfig = once(parseJobsConfig);

/** Where the Segmind API key comes from: Secrets Manager on AWS, the environment on the local stack. */
export type SegmindKeySource = { kind: 'secret'; secretName: string } | { kind: 'env'; apiKey: string };

export const parseSegmindKeySource = (env: Env): SegmindKeySource => {
  const secretName = optional(env, ENV.segmindApiKeySecret);
  if (secretName !== undefined) return { kind: 'secret', secretName };
  const apiKey = optional(env, ENV.segmindApiKey);
  if (apiKey !== undefined) return { kind: 'env', apiKey };
  throw new ConfigError(
    `Missing environment variable ${ENV.segmindApiKeySecret} (the Secrets Manager secret holding the Segmind ` +
      `API key, on AWS) or ${ENV.segmindApiKey} (the key itself, on the local stack)`,
  );
};

export const segmindKeySource = once(parseSegmindKeySource);

export interface SubmitPolicyConfig {
  /** LTX_RESUBMIT_UNKNOWN_OUTCOME: may a submit whose outcome is unknown be POSTed again (and maybe paid twice)? */
  resubmitUnknownOutcome: boolean;
}

export const parseSubmitPolicyConfig = (env: Env): SubmitPolicyConfig => {
  const raw = optional(env, ENV.resubmitUnknownOutcome)?.toLowerCase();
  if (raw !== undefined && raw !== 'true' && raw !== 'false') {
    throw new ConfigError(`${ENV.resubmitUnknownOutcome} must be true or false, got "${raw}"`);
  }
  return { resubmitUnknownOutcome: raw === 'true' };
};

export const submitPolicyConfig = once(parseSubmitPolicyConfig);

const hostList = (env: Env, name: string): ReadonlySet<string> => {
  try {
    return parseHostList(env[name], name);
  } catch (cause) {
    throw new ConfigError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
};

/**
 * Where finished videos may be fetched from: public https hosts, plus SEGMIND_BASE_URL's own host (the
 * emulator on any port, a proxy: Segmind's origin is trusted by configuration, it already gets the key)
 * and LTX_ALLOWED_VIDEO_HOSTS. Submit and StoreVideo both parse it at load, so a setting the download
 * would refuse stops the submit before anything is billed.
 */
export const parseVideoUrlPolicy = (env: Env): UrlPolicy => {
  let baseUrl: string;
  try {
    baseUrl = normaliseBaseUrl(
      optional(env, ENV.segmindBaseUrl) ?? DEFAULT_SEGMIND_BASE_URL,
      ENV.segmindBaseUrl,
    );
  } catch (cause) {
    throw new ConfigError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
  return { allowedHosts: new Set([hostKeyOfUrl(baseUrl), ...hostList(env, ENV.allowedVideoHosts)]) };
};

export const videoUrlPolicy = once(parseVideoUrlPolicy);

/** Which image URLs are accepted: public https ones, plus LTX_ALLOWED_IMAGE_HOSTS (the local s3rver). */
export const parseImageUrlPolicy = (env: Env): UrlPolicy => ({
  allowedHosts: hostList(env, ENV.allowedImageHosts),
});

let imagePolicy: { raw: string | undefined; policy: UrlPolicy } | undefined;

/**
 * The image URL policy for the request schema. Read on each use (cached while the variable is unchanged),
 * not once: the schema is a module constant that CLIs use before the local stack sets the variable.
 */
export const imageUrlPolicy = (): UrlPolicy => {
  const raw = process.env[ENV.allowedImageHosts];
  if (imagePolicy === undefined || imagePolicy.raw !== raw)
    imagePolicy = { raw, policy: parseImageUrlPolicy(process.env) };
  return imagePolicy.policy;
};

/** Five minutes: far longer than any gap between a record's PutItem and its StartExecution. */
export const DEFAULT_SWEEP_GRACE_SECONDS = 300;

export interface SweepConfig {
  graceSeconds: number;
}

export const parseSweepConfig = (env: Env): SweepConfig => {
  const raw = optional(env, ENV.sweepGraceSeconds);
  if (raw === undefined) return { graceSeconds: DEFAULT_SWEEP_GRACE_SECONDS };
  const graceSeconds = Number(raw);
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0) {
    throw new ConfigError(`${ENV.sweepGraceSeconds} must be a whole number of seconds, got "${raw}"`);
  }
  return { graceSeconds };
};

export const sweepConfig = once(parseSweepConfig);

export interface RequestBudgetConfig {
  /** The DynamoDB table of request budgets (partition key `budgetId`). */
  tableName: string;
  /** Segmind requests per minute per key, for all jobs together. */
  requestsPerMinute: number;
}

export const parseRequestBudgetConfig = (env: Env): RequestBudgetConfig => {
  const raw = optional(env, ENV.segmindRequestsPerMinute);
  const requestsPerMinute = raw === undefined ? DEFAULT_REQUESTS_PER_MINUTE : Number(raw);
  if (!(Number.isFinite(requestsPerMinute) && requestsPerMinute > 0)) {
    throw new ConfigError(
      `${ENV.segmindRequestsPerMinute} must be a positive number (Segmind's plan: 5 or 50), got "${raw}"`,
    );
  }
  return {
    tableName: required(env, ENV.requestBudgetTable, 'the DynamoDB table of request budgets'),
    requestsPerMinute,
  };
};

export const requestBudgetConfig = once(parseRequestBudgetConfig);

export interface JobEventsConfig {
  /** The EventBridge bus a job's end is announced on when it ends outside the state machine (a cancel). */
  eventBusName: string;
}

export const parseJobEventsConfig = (env: Env): JobEventsConfig => ({
  eventBusName: required(env, ENV.eventBusName, "the event bus a cancelled job's end is announced on"),
});
export const jobEventsConfig = once(parseJobEventsConfig);
