// The Powertools logger, tracer and metrics every Lambda shares, and the middy wrapper that wires them up
// around a handler. Outside Lambda the tracer is off by itself; set POWERTOOLS_METRICS_DISABLED=true (or
// POWERTOOLS_DEV) locally to keep EMF lines off stdout.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#commons/metric-names';
import { logReplacer, redactError } from '#commons/redact';

export { METRICS_NAMESPACE, SERVICE_NAME };

/** Every log line is serialized through logReplacer: no URL query string (presigned URLs) or API key. */
export const logger = new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: logReplacer });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });

/** What a wrapped handler receives besides the event: middy's signal aborts just before the Lambda times out. */
export interface HandlerOptions {
  signal: AbortSignal;
}

/** Errors that ended an invocation (the caller — Step Functions, EventBridge — got them), by `errorName`. */
export const HANDLER_ERRORS_METRIC = 'HandlerErrors';

/**
 * Publishes what the invocation recorded, and counts the error that ends it. Powertools' logMetrics warns
 * "No application metrics to publish" after every invocation that recorded nothing; ours may rightly have
 * nothing to count (a submit replayed after a retry, an upload already handled, an API read), so an empty
 * flush stays silent. An error that leaves the handler is always counted, by the name Retry/Catch match, in
 * a document of its own: its dimension must not change those of the metrics the handler recorded. An error
 * a later middleware turned into a response (the API's error mapping) is not the invocation's end.
 */
export const publishMetrics = <TEvent, TResult>(
  target: Metrics = metrics,
): MiddlewareObj<TEvent, TResult> => {
  const flush = (): void => {
    if (target.hasStoredMetrics()) {
      target.publishStoredMetrics();
      return;
    }
    // What publishing clears, so that nothing this invocation added reaches the next one.
    target.clearDimensions();
    target.clearMetadata();
  };
  return {
    after: flush,
    onError: (request) => {
      if (request.response === undefined || request.response === null) {
        const single = target.singleMetric();
        single.addDimension('errorName', request.error instanceof Error ? request.error.name : 'NonError');
        single.addMetric(HANDLER_ERRORS_METRIC, MetricUnit.Count, 1);
      }
      flush();
    },
  };
};

/**
 * Scrubs the error that ends an invocation (redactError): the Lambda runtime logs it, the tracer records
 * it, and Step Functions keeps its message as the Cause. Its name, which Retry/Catch match, is kept.
 */
export const redactErrors = <TEvent, TResult>(): MiddlewareObj<TEvent, TResult> => ({
  onError: (request) => {
    redactError(request.error);
  },
});

/**
 * Wraps a handler in middy with the shared tracer, logger context and metrics flush (publishMetrics).
 * Errors propagate with their `name` unchanged (Step Functions matches it) and their text redacted.
 */
export const lambdaHandler = <TEvent, TResult>(
  handler: (event: TEvent, context: Context, options: HandlerOptions) => Promise<TResult>,
) =>
  middy<TEvent, TResult>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics<TEvent, TResult>(metrics))
    // Last in, so its onError runs first: the tracer's segment sees the error already redacted.
    .use(redactErrors<TEvent, TResult>())
    .handler(handler);
