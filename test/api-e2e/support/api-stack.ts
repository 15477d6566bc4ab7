// The local stack with the REST API in front of it, driven over real HTTP — one per test file (the handlers
// read their configuration once per process) — and the few calls and waits the API tests share.
import type { VideoWorkflow } from '#domain/start-job';
import type { JobStatus } from '#domain/video-job';
import { type LocalApi, localApiHandlers, startLocalApi } from '#local/api-server';
import type { LocalStack, LocalStackOptions } from '#local/stack';
import { emulatorOf, startTestStack } from '#test/workflow/support/local-stack';

/** Every job in these tests has this shape, so the emulator renders its MP4 once (and caches it). */
export const SMALL_JOB = { resolution: '1080p', duration: 6, generateAudio: true } as const;

export interface ApiStack {
  stack: LocalStack;
  api: LocalApi;
  client: ApiClient;
  /** Another API on the same stack, whose handlers get this workflow instead of the local one. */
  apiWith(workflow: VideoWorkflow): Promise<ApiClient>;
  stop(): Promise<void>;
}

export const startApiStack = async (
  options: Pick<LocalStackOptions, 'timeScale' | 'emulatorOptions'>,
): Promise<ApiStack> => {
  const stack = await startTestStack(options);
  const extra: LocalApi[] = [];
  try {
    await emulatorOf(stack).prepareVideos([SMALL_JOB]);
    const api = await startLocalApi({
      handlers: await localApiHandlers({ workflow: stack.workflow, events: stack.events }),
    });
    return {
      stack,
      api,
      client: new ApiClient(api.url),
      apiWith: async (workflow) => {
        const other = await startLocalApi({
          handlers: await localApiHandlers({ workflow, events: stack.events }),
        });
        extra.push(other);
        return new ApiClient(other.url);
      },
      stop: async () => {
        await Promise.all([api.stop(), ...extra.map((a) => a.stop())]);
        await stack.stop();
      },
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
};

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body (every answer of this API is JSON). */
  body: Record<string, unknown>;
  text: string;
}

export interface FieldError {
  field: string;
  message: string;
}

/** The error body every 4xx/5xx of the API has. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string; fields?: FieldError[] };
}

export class ApiClient {
  constructor(readonly url: string) {}

  async request(
    method: string,
    path: string,
    options: { json?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const body = options.rawBody ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error(`${method} ${path} answered ${response.status} with a body that is not JSON: ${text}`);
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  create(json: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return this.request('POST', '/videos', { json, headers });
  }

  get(jobId: string): Promise<ApiResponse> {
    return this.request('GET', `/videos/${encodeURIComponent(jobId)}`);
  }

  cancel(jobId: string): Promise<ApiResponse> {
    return this.request('DELETE', `/videos/${encodeURIComponent(jobId)}`);
  }

  list(query: Record<string, string> = {}): Promise<ApiResponse> {
    const search = new URLSearchParams(query).toString();
    return this.request('GET', `/videos${search === '' ? '' : `?${search}`}`);
  }

  /** Polls GET until the job's status is one of `statuses` (a client would do the same). */
  async waitForStatus(
    jobId: string,
    statuses: readonly JobStatus[],
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let last: ApiResponse | undefined;
    while (Date.now() < deadline) {
      last = await this.get(jobId);
      if (last.status === 200 && statuses.includes(last.body.status as JobStatus)) return last.body;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
    }
    throw new Error(`job ${jobId} never reached ${statuses.join('/')}; last answer: ${last?.text}`);
  }
}

export const errorOf = (response: ApiResponse): ErrorBody['error'] => {
  const error = (response.body as Partial<ErrorBody>).error;
  if (error === undefined) throw new Error(`not an error body: ${response.text}`);
  return error;
};

export const jobIdOf = (response: ApiResponse): string => {
  const jobId = response.body.jobId;
  if (typeof jobId !== 'string') throw new Error(`no jobId in ${response.text}`);
  return jobId;
};

/** What starting a job would have touched: job records written, executions started, Segmind submits. */
export const startCounters = (stack: LocalStack) => ({
  recordsPut: stack.counters().dynamodb.PutItem ?? 0,
  executions: stack.workflow.list().length,
  segmindSubmits: emulatorOf(stack).control.counters().byEndpoint.submit,
  segmindJobs: emulatorOf(stack).control.counters().jobsCreated,
});
