// PrepareBatch task: the first step of a batch. Reads and validates the manifest once, writes the batch's
// lines file for the Distributed Map and marks the batch RUNNING (see #domain/batch-run).
// Payload: {input: the execution input {batchId?, manifest: {bucket, key, versionId?}}, executionName}.
// Returns PreparedBatch, written to `$.batch`. A batch started without a batchId is named after its execution.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { batchConfig } from '#adapters/batch-config';
import { createBatchFiles } from '#adapters/batch-files';
import { createBatchStore } from '#adapters/batch-store';
import { lambdaHandler, logger, metrics } from '#commons/powertools';
import { BatchInputError } from '#domain/batch-manifest';
import { type PrepareBatchDeps, type PreparedBatch, prepareBatch } from '#domain/batch-run';

const config = batchConfig();

// The execution input is what a person or a schedule typed: a problem with it is the batch's input error.
const payloadSchema = z.object({
  executionName: z.string().min(1),
  input: z.looseObject({
    batchId: z.string({ error: 'batchId must be a string' }).min(1).optional(),
    manifest: z.object(
      {
        bucket: z.string({ error: 'manifest.bucket must be a string' }).min(1),
        key: z.string({ error: 'manifest.key must be a string' }).min(1),
        versionId: z.string().min(1).optional(),
      },
      { error: 'manifest must be {"bucket": "...", "key": "manifests/..."}' },
    ),
  }),
});

let deps: PrepareBatchDeps | undefined;
const dependencies = (): PrepareBatchDeps => {
  deps ??= {
    files: createBatchFiles(),
    batches: createBatchStore(),
    bucket: config.bucket,
    now: () => new Date(),
  };
  return deps;
};

export const handler = lambdaHandler(async (event: unknown): Promise<PreparedBatch> => {
  const parsed = payloadSchema.safeParse(event);
  if (!parsed.success) {
    throw new BatchInputError(`The batch input is unusable: ${z.prettifyError(parsed.error)}`);
  }
  const { input, executionName } = parsed.data;
  const prepared = await prepareBatch(
    {
      batchId: input.batchId ?? executionName,
      manifest: {
        bucket: input.manifest.bucket,
        key: input.manifest.key,
        ...(input.manifest.versionId === undefined ? {} : { versionId: input.manifest.versionId }),
      },
    },
    dependencies(),
  );
  logger.appendKeys({ batchId: prepared.batchId });
  metrics.addMetric('BatchLinesRejected', MetricUnit.Count, prepared.rejected);
  logger.info('Batch prepared', {
    lineCount: prepared.lineCount,
    runnable: prepared.runnable,
    rejected: prepared.rejected,
  });
  return prepared;
});
