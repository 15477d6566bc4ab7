// How the Segmind client is configured: defaults, validation, and the one reader of the environment.
import { ENV } from '#commons/env';

export const DEFAULT_SEGMIND_BASE_URL = 'https://api.segmind.com';
export const SEGMIND_MODEL = 'ltx-2-fast';

/**
 * Defaults sized for a Lambda whose timeout exceeds connect + read (25 s): a submit answers in well
 * under a second and a poll is a small JSON document, so these bound a hung connection, not a slow job.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_READ_TIMEOUT_MS = 20_000;
/** Segmind's answers are a few hundred bytes; 1 MiB leaves room for verbose errors and bounds memory. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
export const DEFAULT_USER_AGENT = 'ltx-video-pipeline/0.1 (+segmind-client)';

/** Upper bounds: a Lambda never runs longer than 15 minutes, and no Segmind answer needs 64 MiB. */
const LIMITS = {
  connectTimeoutMs: 900_000,
  readTimeoutMs: 900_000,
  maxResponseBytes: 64 * 1_048_576,
} as const;

/** Everything about the client except the key, which never lives in configuration objects or logs. */
export interface SegmindConfig {
  /** Origin (and optional path prefix) of the API, without a trailing slash. */
  baseUrl: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  maxResponseBytes: number;
  userAgent: string;
  /** The model path segment of the submit endpoint (`POST /v2/{model}`). */
  model: string;
}

/** The key itself, or a function that fetches it (e.g. from Secrets Manager, cached by the caller). */
export type ApiKeySource = string | (() => Promise<string>);

export interface SegmindClientOptions extends Partial<SegmindConfig> {
  apiKey: ApiKeySource;
}

/** A setting that cannot work. Raised at start-up, never for a request. */
export class SegmindConfigError extends Error {
  override readonly name = 'SegmindConfigError';
}

const positiveInteger = (label: string, value: number, max: number): number => {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new SegmindConfigError(`${label} must be a whole number between 1 and ${max}, got ${value}`);
  }
  return value;
};

/** Normalises a base URL: http(s) only, no query or fragment, no trailing slash. */
export const normaliseBaseUrl = (raw: string, label = 'baseUrl'): string => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new SegmindConfigError(`${label} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SegmindConfigError(`${label} must use http or https, got ${url.protocol}`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new SegmindConfigError(`${label} must not carry credentials, a query or a fragment`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
};

const modelName = (model: string): string => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(model)) {
    throw new SegmindConfigError('model must be a single path segment of letters, digits, ".", "_" or "-"');
  }
  return model;
};

/** Fills defaults and validates; the result is frozen. */
export const resolveSegmindConfig = (options: Partial<SegmindConfig> = {}): Readonly<SegmindConfig> =>
  Object.freeze({
    baseUrl: normaliseBaseUrl(options.baseUrl ?? DEFAULT_SEGMIND_BASE_URL),
    connectTimeoutMs: positiveInteger(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      LIMITS.connectTimeoutMs,
    ),
    readTimeoutMs: positiveInteger(
      'readTimeoutMs',
      options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
      LIMITS.readTimeoutMs,
    ),
    maxResponseBytes: positiveInteger(
      'maxResponseBytes',
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      LIMITS.maxResponseBytes,
    ),
    userAgent: options.userAgent?.trim() || DEFAULT_USER_AGENT,
    model: modelName(options.model ?? SEGMIND_MODEL),
  });

const integerFromEnv = (env: NodeJS.ProcessEnv, name: string, max: number): number | undefined => {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new SegmindConfigError(`${name} must be a whole number, got "${raw}"`);
  return positiveInteger(name, Number(raw), max);
};

/**
 * Reads SEGMIND_BASE_URL, SEGMIND_CONNECT_TIMEOUT_MS, SEGMIND_READ_TIMEOUT_MS and SEGMIND_MAX_RESPONSE_BYTES
 * once. Throws SegmindConfigError naming the variable, so a bad deployment fails at start-up.
 * The key is not read here: on AWS it comes from Secrets Manager, locally from SEGMIND_API_KEY.
 */
export const segmindConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): Readonly<SegmindConfig> => {
  const baseUrl = env[ENV.segmindBaseUrl]?.trim() || DEFAULT_SEGMIND_BASE_URL;
  const settings: Partial<SegmindConfig> = { baseUrl: normaliseBaseUrl(baseUrl, ENV.segmindBaseUrl) };
  const connectTimeoutMs = integerFromEnv(env, ENV.segmindConnectTimeoutMs, LIMITS.connectTimeoutMs);
  const readTimeoutMs = integerFromEnv(env, ENV.segmindReadTimeoutMs, LIMITS.readTimeoutMs);
  const maxResponseBytes = integerFromEnv(env, ENV.segmindMaxResponseBytes, LIMITS.maxResponseBytes);
  if (connectTimeoutMs !== undefined) settings.connectTimeoutMs = connectTimeoutMs;
  if (readTimeoutMs !== undefined) settings.readTimeoutMs = readTimeoutMs;
  if (maxResponseBytes !== undefined) settings.maxResponseBytes = maxResponseBytes;
  return resolveSegmindConfig(settings);
};
