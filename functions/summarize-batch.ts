// SummarizeBatch task: the last step of a batch, run also when the Distributed Map failed. Reads every
// line's job record and writes the summary to S3 and to the batch record (see #domain/batch-run).
// Payload: the whole state `$` — `batch` (from PrepareBatch) and, when the map failed, `mapError` (a
// Catch's {Error, Cause}); the whole state because a JSONPath to an absent `mapError` would fail the state.
// Returns FinishedBatch (counts, no lists), written to `$.summary`.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { batchConfig } from '#adapters/batch-config';
import { createBatchFiles } from '#adapters/batch-files';
import { createBatchJobs } from '#adapters/batch-jobs';
import { createBatchStore } from '#adapters/batch-store';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { BATCH_ID_PATTERN } from '#domain/batch-manifest';
import { type FinishBatchDeps, type FinishedBatch, finishBatch } from '#domain/batch-run';
import { InvalidPayloadError } from '#domain/errors';

const config = batchConfig();

const location = z.object({ bucket: z.string().min(1), key: z.string().min(1) });

const payloadSchema = z.looseObject({
  batch: z.looseObject({
    batchId: z.string().regex(BATCH_ID_PATTERN),
    manifest: location.extend({ versionId: z.string().min(1).optional() }),
    lines: location,
    startedAt: z.string().optional(),
  }),
  mapError: z.looseObject({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

let deps: FinishBatchDeps | undefined;
const dependencies = (): FinishBatchDeps => {
  deps ??= {
    files: createBatchFiles(),
    jobs: createBatchJobs(),
    batches: createBatchStore(),
    bucket: config.bucket,
    now: () => new Date(),
  };
  return deps;
};

export const handler = lambdaHandler(async (event: unknown): Promise<FinishedBatch> => {
  const parsed = payloadSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidPayloadError(
      `SummarizeBatch got an unreadable payload: ${z.prettifyError(parsed.error)}`,
    );
  }
  const { batch, mapError } = parsed.data;
  logger.appendKeys({ batchId: batch.batchId });
  const finished = await finishBatch(
    {
      batchId: batch.batchId,
      manifest: batch.manifest,
      lines: batch.lines,
      ...(batch.startedAt === undefined ? {} : { startedAt: batch.startedAt }),
      ...(mapError === undefined ? {} : { mapError: { error: mapError.Error, cause: mapError.Cause ?? '' } }),
    },
    dependencies(),
  );
  metrics.addMetric('BatchLinesFailed', MetricUnit.Count, finished.failureCount);
  logger.info('Batch finished', { ...finished });
  return finished;
});
