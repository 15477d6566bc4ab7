// Synthesizes the CDK app (without bundling) and extracts what the local stack runs: the VideoJob state
// machine's definition as plain ASL, each Lambda's handler module, the tables and buckets, and the
// Lambdas' environment — all read from the one template, so the local run and AWS cannot drift apart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { CfnResource as CdkCfnResource } from 'aws-cdk-lib';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { ENV } from '#commons/env';
import { VideoFunction } from '#infra/constructs/video-function';
import { definitionFromTemplate, resolveIntrinsics } from '#infra/definition';
import { buildApp } from '#infra/stack';
import type { LocalFunction } from '#local/lambda-runtime';
import { type CfnTemplate, createTableInput, localArn, localRef, resourcesOfType } from '#local/template';

export interface SynthesizedWorkflow {
  template: CfnTemplate;
  /** The VideoJob state machine's local name. */
  stateMachineName: string;
  definition: StateMachineDefinition;
  functions: LocalFunction[];
  /** Every table of the template, as CreateTable inputs for the local DynamoDB. */
  tables: CreateTableCommandInput[];
  jobsTableName: string;
  /** Every bucket of the template, by local name. */
  buckets: string[];
  videosBucketName: string;
  /**
   * The Lambdas' environment from the template, intrinsics resolved to local names, merged into one
   * (the handlers share one process). Without the secret name: locally the key itself is passed.
   */
  environment: Record<string, string>;
}

/** Variables that describe the Lambda runtime or AWS-only wiring, never set in the local process. */
const NOT_LOCAL = new Set<string>([
  'NODE_OPTIONS',
  'AWS_NODEJS_CONNECTION_REUSE_ENABLED',
  ENV.segmindApiKeySecret,
]);

export const synthesizeVideoJobWorkflow = (): SynthesizedWorkflow => {
  const outdir = mkdtempSync(join(tmpdir(), 'ltx-synth-'));
  // CDK's built-in template validation (a WebAssembly CloudFormation linter) and default rules take
  // seconds per start and change nothing in the template; `cdk synth` and the infra tests still run them.
  const validation = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  try {
    const { app, stack } = buildApp({
      bundling: false,
      outdir,
      context: { '@aws-cdk/core:validateAgainstDefaultRules': false },
    });
    const assembly = app.synth();
    const template = assembly.getStackArtifact(stack.artifactId).template as CfnTemplate;
    const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
      stack.getLogicalId(construct.node.defaultChild as CdkCfnResource);

    const stateMachineId = logicalId(stack.workflow.stateMachine);
    // Default resolution: a Lambda's ARN ends in `function:<logicalId>`, a table's Ref is its logical id —
    // the names the local runtime and the local DynamoDB use.
    const definition = definitionFromTemplate(template, {
      stateMachineLogicalId: stateMachineId,
    }) as unknown as StateMachineDefinition;

    const functions = VideoFunction.allIn(stack).map(
      (fn): LocalFunction & { env: Record<string, unknown> } => {
        const id = logicalId(fn);
        const props = template.Resources?.[id]?.Properties ?? {};
        const variables =
          (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
        return {
          name: localRef(template, id),
          arn: localArn(template, id),
          entry: fn.entry,
          timeoutSeconds: typeof props.Timeout === 'number' ? props.Timeout : 3,
          memoryMb: typeof props.MemorySize === 'number' ? props.MemorySize : 128,
          env: variables,
        };
      },
    );

    return {
      template,
      stateMachineName: stateMachineId,
      definition,
      functions: functions.map(({ env: _, ...fn }) => fn),
      tables: resourcesOfType(template, 'AWS::DynamoDB::Table').map(([id]) => createTableInput(template, id)),
      jobsTableName: localRef(template, logicalId(stack.storage.jobs)),
      buckets: resourcesOfType(template, 'AWS::S3::Bucket').map(([id]) => localRef(template, id)),
      videosBucketName: localRef(template, logicalId(stack.storage.videos)),
      environment: mergedEnvironment(
        template,
        functions.map((fn) => [fn.name, fn.env]),
      ),
    };
  } finally {
    if (validation === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = validation;
    rmSync(outdir, { recursive: true, force: true });
  }
};

const mergedEnvironment = (
  template: CfnTemplate,
  perFunction: [string, Record<string, unknown>][],
): Record<string, string> => {
  const merged: Record<string, { value: string; from: string }> = {};
  for (const [fn, variables] of perFunction) {
    for (const [name, raw] of Object.entries(variables)) {
      if (NOT_LOCAL.has(name)) continue;
      const value = String(resolveIntrinsics(raw, template));
      const seen = merged[name];
      if (seen && seen.value !== value) {
        throw new Error(
          `${name} is "${seen.value}" for ${seen.from} but "${value}" for ${fn}; the local stack runs all ` +
            'handlers in one process and needs one value',
        );
      }
      merged[name] = { value, from: fn };
    }
  }
  return Object.fromEntries(Object.entries(merged).map(([name, { value }]) => [name, value]));
};
