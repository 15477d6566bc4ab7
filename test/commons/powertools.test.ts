// What every handler publishes to CloudWatch (EMF documents on stdout): the metrics it recorded, an error
// count by name when an error ends the invocation, one response count per API request — and no
// "No application metrics to publish" warning when an invocation had nothing to count.
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type * as Powertools from '#commons/powertools';
import { JobNotFoundError } from '#domain/cancel-job';
import type * as Http from '#functions/api/http';
import { apiEvent, lambdaContext, stubApiEnvironment } from '#test/api/support/api-events';

let powertools: typeof Powertools;
let http: typeof Http;
let log: MockInstance<(...args: unknown[]) => void>;
let warn: MockInstance<(...args: unknown[]) => void>;

beforeAll(async () => {
  stubApiEnvironment();
  // EMF on, written through the global console (dev mode), where the test reads it.
  vi.stubEnv('POWERTOOLS_DEV', 'true');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'ltx-video-pipeline');
  powertools = await import('#commons/powertools');
  http = await import('#functions/api/http');
});
afterAll(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

beforeEach(() => {
  log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  log.mockClear();
  warn.mockClear();
});

interface Emf {
  _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** The EMF documents printed since the last reset: metric names, dimension names, and the values. */
const published = () =>
  log.mock.calls
    .map(([line]) =>
      typeof line === 'string' && line.includes('"_aws"') ? (JSON.parse(line) as Emf) : undefined,
    )
    .filter((doc) => doc !== undefined)
    .map((doc) => {
      const [directive] = doc._aws.CloudWatchMetrics;
      const dimensions = (directive?.Dimensions[0] ?? []).sort();
      return {
        metrics: (directive?.Metrics ?? []).map((m) => m.Name),
        dimensions: Object.fromEntries(dimensions.map((name) => [name, doc[name]])),
        doc,
      };
    });

const warnings = () => warn.mock.calls.map((args) => args.map(String).join(' '));

class SegmindRateLimitedError extends Error {
  override readonly name = 'SegmindRateLimitedError';
}

const context: Context = lambdaContext();

describe('a workflow handler', () => {
  it('publishes nothing and warns nothing when the invocation had nothing to count', async () => {
    const handler = powertools.lambdaHandler(async () => ({ replayed: true }));
    await expect(handler({}, context)).resolves.toEqual({ replayed: true });
    expect(published()).toEqual([]);
    expect(warnings().join('\n')).not.toContain('No application metrics');
  });

  it('publishes what it recorded, with the service as the only dimension', async () => {
    const handler = powertools.lambdaHandler(async () => {
      powertools.metrics.addMetric('VideosStored', 'Count', 1);
      return 'ok';
    });
    await handler({}, context);
    expect(published().map(({ metrics, dimensions }) => ({ metrics, dimensions }))).toEqual([
      { metrics: ['VideosStored'], dimensions: { service: 'ltx-video-pipeline' } },
    ]);
  });

  it('counts the error that ends it by name, apart from the metrics it recorded, and rethrows it', async () => {
    const handler = powertools.lambdaHandler(async () => {
      powertools.metrics.addMetric('SegmindStatusPolls', 'Count', 1);
      throw new SegmindRateLimitedError('429 from Segmind');
    });
    await expect(handler({}, context)).rejects.toThrow(SegmindRateLimitedError);
    const docs = published().map(({ metrics, dimensions }) => ({ metrics, dimensions }));
    expect(docs).toHaveLength(2);
    expect(docs).toContainEqual({
      metrics: [powertools.HANDLER_ERRORS_METRIC],
      dimensions: { errorName: 'SegmindRateLimitedError', service: 'ltx-video-pipeline' },
    });
    expect(docs).toContainEqual({
      metrics: ['SegmindStatusPolls'],
      dimensions: { service: 'ltx-video-pipeline' },
    });
    expect(warnings().join('\n')).not.toContain('No application metrics');
  });

  it('does not carry a dimension of one invocation into the next', async () => {
    const tagging = powertools.lambdaHandler(async () => {
      powertools.metrics.addDimension('batchId', 'b-1');
    });
    await tagging({}, context);
    const counting = powertools.lambdaHandler(async () => {
      powertools.metrics.addMetric('JobsFailed', 'Count', 1);
    });
    await counting({}, context);
    expect(published().map(({ dimensions }) => dimensions)).toEqual([{ service: 'ltx-video-pipeline' }]);
  });
});

describe('an API handler', () => {
  const event = apiEvent({
    method: 'GET',
    resource: '/videos/{jobId}',
    path: '/videos/j-1',
    pathParameters: { jobId: 'j-1' },
  });

  it.each([
    ['an answer', async () => http.json(200, { jobId: 'j-1' }), '200'],
    [
      'a refusal',
      async () => {
        throw new JobNotFoundError('no job j-1');
      },
      '404',
    ],
    [
      'an internal error',
      async () => {
        throw new TypeError('boom');
      },
      '500',
    ],
  ])('counts %s once, by route and status code, and no handler error', async (_, route, statusCode) => {
    const handler = http.apiHandler(route);
    const result = await handler(event, context);
    expect(String(result.statusCode)).toBe(statusCode);
    expect(published().map(({ metrics, dimensions }) => ({ metrics, dimensions }))).toEqual([
      {
        metrics: [http.API_RESPONSES_METRIC],
        dimensions: { route: 'GET /videos/{jobId}', service: 'ltx-video-pipeline', statusCode },
      },
    ]);
    expect(warnings().join('\n')).not.toContain('No application metrics');
  });
});
