// The Powertools logger, tracer and metrics every Lambda shares, and the middy wrapper that wires them up
// around a handler. Outside Lambda the tracer is off by itself; set POWERTOOLS_METRICS_DISABLED=true (or
// POWERTOOLS_DEV) locally to keep EMF lines off stdout.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

export const SERVICE_NAME = 'ltx-video-pipeline';
export const METRICS_NAMESPACE = 'LtxVideoPipeline';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });

/** What a wrapped handler receives besides the event: middy's signal aborts just before the Lambda times out. */
export interface HandlerOptions {
  signal: AbortSignal;
}

/**
 * Wraps a handler in middy with the shared tracer, logger context and metrics flush. Errors propagate
 * unchanged: Step Functions matches their `name`.
 */
export const lambdaHandler = <TEvent, TResult>(
  handler: (event: TEvent, context: Context, options: HandlerOptions) => Promise<TResult>,
) =>
  middy<TEvent, TResult>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(handler);
