// The typed client of Segmind's v2 async API (submit, status, result) that the Lambdas use.
//
// - It never retries: every call is one HTTP request. Retries belong to the state machine, which knows the
//   job's history, the rate limit and the deadline; a retry here would hide requests from the rate budget
//   and, on submit, could pay for a second job. Each error says instead whether a retry is safe
//   (`retryable`) and, for a submit, whether a job may exist (`submitOutcome`). See wire.ts for the rules.
// - It follows the absolute status_url/response_url Segmind returns (http(s) only, no https→http downgrade).
// - The API key is sent as `x-api-key` and nowhere else: it is never logged (this client logs nothing) and
//   is cut out of any text Segmind echoes back into an error message.
// - Transport, timeouts and the body-size limit: see http.ts.
import {
  type ApiKeySource,
  resolveSegmindConfig,
  type SegmindClientOptions,
  type SegmindConfig,
} from '#segmind/config';
import { SegmindAuthError } from '#segmind/errors';
import { exchange, type HttpAnswer, TransportFailure } from '#segmind/http';
import type {
  ResultReport,
  SegmindApi,
  SegmindVideoRequest,
  StatusReport,
  SubmitAccepted,
} from '#segmind/types';
import {
  type CallContext,
  defaultUrls,
  errorFromTransport,
  followableUrl,
  type Operation,
  readResultAnswer,
  readStatusAnswer,
  readSubmitAnswer,
  requestIdFromUrl,
} from '#segmind/wire';

export type { SegmindClientOptions, SegmindConfig } from '#segmind/config';
export { segmindConfigFromEnv } from '#segmind/config';

// Header values may not hold control characters; Node would throw a TypeError naming the header.
const HEADER_SAFE = /^[\x21-\x7e]+$/;

const formatBytes = (bytes: number): string =>
  bytes >= 1_048_576 && bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MiB` : `${bytes} bytes`;

interface Target {
  url: URL;
  requestId: string | undefined;
}

export class SegmindClient implements SegmindApi {
  readonly config: Readonly<SegmindConfig>;
  readonly #apiKey: ApiKeySource;

  constructor(options: SegmindClientOptions) {
    const { apiKey, ...settings } = options;
    this.config = resolveSegmindConfig(settings);
    this.#apiKey = apiKey;
  }

  async submit(request: SegmindVideoRequest): Promise<SubmitAccepted> {
    const context = await this.#context('submit', undefined);
    const url = new URL(`${this.config.baseUrl}/v2/${this.config.model}`);
    const answer = await this.#send(context, 'POST', url, Buffer.from(JSON.stringify(request), 'utf8'));
    return readSubmitAnswer(answer, context, this.config.baseUrl, this.#limit());
  }

  async status(requestIdOrStatusUrl: string): Promise<StatusReport> {
    const target = this.#target(requestIdOrStatusUrl, 'statusUrl');
    const context = await this.#context('status', target.requestId);
    const answer = await this.#send(context, 'GET', target.url);
    return readStatusAnswer(answer, context, this.#limit());
  }

  async result(requestIdOrResponseUrl: string): Promise<ResultReport> {
    const target = this.#target(requestIdOrResponseUrl, 'responseUrl');
    const context = await this.#context('result', target.requestId);
    const answer = await this.#send(context, 'GET', target.url);
    return readResultAnswer(answer, context, this.#limit());
  }

  /**
   * An absolute URL is followed as given (it came from Segmind's submit answer); anything else is a request
   * id placed under the base URL. Throws TypeError for input no call could succeed with: a caller's bug.
   */
  #target(idOrUrl: string, kind: 'statusUrl' | 'responseUrl'): Target {
    const value = idOrUrl.trim();
    if (value === '') throw new TypeError(`Segmind ${kind}: a request id or an http(s) URL is required`);
    if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
      const url = followableUrl(value, this.config.baseUrl);
      if (url === undefined) {
        throw new TypeError(
          `Segmind ${kind} must be an http(s) URL${this.config.baseUrl.startsWith('https:') ? ' using https' : ''}`,
        );
      }
      const parsed = new URL(url);
      return { url: parsed, requestId: requestIdFromUrl(parsed) };
    }
    if (/[\s/?#]/.test(value))
      throw new TypeError(`Segmind ${kind}: the value is neither a request id nor a URL`);
    return { url: new URL(defaultUrls(this.config.baseUrl, value)[kind]), requestId: value };
  }

  async #context(operation: Operation, requestId: string | undefined): Promise<CallContext> {
    const secret = (typeof this.#apiKey === 'string' ? this.#apiKey : await this.#apiKey()).trim();
    // Refused before any byte is sent, so no request is spent on the rate limit and no job can exist.
    if (secret === '') {
      throw new SegmindAuthError('Segmind API key is empty', requestId === undefined ? {} : { requestId });
    }
    if (!HEADER_SAFE.test(secret)) {
      throw new SegmindAuthError(
        'Segmind API key contains characters an HTTP header cannot carry',
        requestId === undefined ? {} : { requestId },
      );
    }
    return { operation, requestId, secret };
  }

  async #send(context: CallContext, method: 'GET' | 'POST', url: URL, body?: Buffer): Promise<HttpAnswer> {
    const headers: Record<string, string> = {
      'x-api-key': context.secret,
      accept: 'application/json',
      'user-agent': this.config.userAgent,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await exchange({
        method,
        url,
        headers,
        ...(body === undefined ? {} : { body }),
        connectTimeoutMs: this.config.connectTimeoutMs,
        readTimeoutMs: this.config.readTimeoutMs,
        maxResponseBytes: this.config.maxResponseBytes,
      });
    } catch (error) {
      if (error instanceof TransportFailure) throw errorFromTransport(error, context);
      throw error;
    }
  }

  #limit(): string {
    return formatBytes(this.config.maxResponseBytes);
  }
}
