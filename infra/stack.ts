// The one stack, wired like the architecture diagram, and buildApp(): the single way to build the CDK app,
// used alike by `cdk synth` (infra/app.ts), the tests and the local runner, so all three see one template.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ExecutionReconciler } from '#infra/constructs/execution-reconciler';
import { PROJECT_ROOT } from '#infra/constructs/handlers';
import { JobSweeper } from '#infra/constructs/job-sweeper';
import { SegmindApiKey } from '#infra/constructs/secrets';
import { Storage } from '#infra/constructs/storage';
import { SubmitOutcomeAlarm } from '#infra/constructs/submit-outcome-alarm';
import { UploadTrigger } from '#infra/constructs/upload-trigger';
import { VideoApi, type VideoApiAuth } from '#infra/constructs/video-api';
import { batchSettingsFromContext, VideoBatch, type VideoBatchSettings } from '#infra/constructs/video-batch';
import { VideoJobWorkflow } from '#infra/constructs/video-job-workflow';

export const STACK_NAME = 'LtxVideoPipeline';

/** Context keys the app reads (`cdk synth -c key=value`, or cdk.json). */
export const CONTEXT_KEYS = {
  /** Use this existing Secrets Manager secret for the Segmind API key instead of creating one. */
  segmindApiKeySecretName: 'segmindApiKeySecretName',
  /** Point the functions at another Segmind endpoint (e.g. a staging emulator). */
  segmindBaseUrl: 'segmindBaseUrl',
  /** `host:port,…` the video download may also fetch from (e.g. a proxy's file host); Segmind's own is implied. */
  allowedVideoHosts: 'allowedVideoHosts',
  /** How API callers authenticate: `iam` (SigV4-signed requests; the default) or `api-key` (x-api-key). */
  apiAuth: 'apiAuth',
  /** Segmind requests per minute of the key's plan (5 or 50), shared by all jobs. @default 50 */
  segmindRequestsPerMinute: 'segmindRequestsPerMinute',
} as const;

const API_AUTH_MODES: readonly VideoApiAuth[] = ['iam', 'api-key'];
const isApiAuth = (value: string): value is VideoApiAuth =>
  (API_AUTH_MODES as readonly string[]).includes(value);

export interface LtxVideoPipelineStackProps extends StackProps {
  readonly segmindApiKeySecretName?: string;
  readonly segmindBaseUrl?: string;
  readonly allowedVideoHosts?: readonly string[];
  /** Segmind requests per minute per key, for all jobs together. @default 50 (Segmind Pro) */
  readonly segmindRequestsPerMinute?: number;
  /** @default 'iam' */
  readonly apiAuth?: VideoApiAuth;
  /** Scheduled batches: concurrency and (optional) schedule. @default from the context, see BATCH_CONTEXT_KEYS */
  readonly batch?: VideoBatchSettings;
}

export class LtxVideoPipelineStack extends Stack {
  readonly storage: Storage;
  readonly segmindApiKey: SegmindApiKey;
  readonly workflow: VideoJobWorkflow;
  readonly reconciler: ExecutionReconciler;
  readonly submitOutcomeAlarm: SubmitOutcomeAlarm;
  readonly sweeper: JobSweeper;
  readonly api: VideoApi;
  readonly uploads: UploadTrigger;
  readonly batch: VideoBatch;

  constructor(scope: Construct, id: string, props: LtxVideoPipelineStackProps = {}) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage');
    this.segmindApiKey = new SegmindApiKey(this, 'SegmindApiKey', {
      ...(props.segmindApiKeySecretName === undefined
        ? {}
        : { existingSecretName: props.segmindApiKeySecretName }),
    });
    this.workflow = new VideoJobWorkflow(this, 'VideoJobWorkflow', {
      jobs: this.storage.jobs,
      videos: this.storage.videos,
      segmindApiKey: this.segmindApiKey,
      requestBudget: this.storage.requestBudget,
      ...(props.segmindBaseUrl === undefined ? {} : { segmindBaseUrl: props.segmindBaseUrl }),
      ...(props.allowedVideoHosts === undefined ? {} : { allowedVideoHosts: props.allowedVideoHosts }),
      ...(props.segmindRequestsPerMinute === undefined
        ? {}
        : { segmindRequestsPerMinute: props.segmindRequestsPerMinute }),
    });
    new CfnOutput(this, 'SegmindApiKeySecret', {
      description:
        'Put the Segmind key here: aws secretsmanager put-secret-value --secret-id <this> --secret-string SG_...',
      value: this.segmindApiKey.secretId,
    });
    new CfnOutput(this, 'VideosBucket', {
      description: 'Where videos (videos/), batch manifests (manifests/) and batch summaries (batches/) live',
      value: this.storage.videos.bucketName,
    });
    new CfnOutput(this, 'VideoJobStateMachineArn', {
      description: 'The VideoJob workflow (one execution per job, named after the job id)',
      value: this.workflow.stateMachine.stateMachineArn,
    });
    this.reconciler = new ExecutionReconciler(this, 'ExecutionReconciler', {
      stateMachine: this.workflow.stateMachine,
      jobs: this.storage.jobs,
    });
    this.submitOutcomeAlarm = new SubmitOutcomeAlarm(this, 'SubmitOutcomeUnknown');
    this.sweeper = new JobSweeper(this, 'JobSweeper', {
      stateMachine: this.workflow.stateMachine,
      jobs: this.storage.jobs,
    });
    this.api = new VideoApi(this, 'Api', {
      jobsTable: this.storage.jobs,
      stateMachine: this.workflow.stateMachine,
      videosBucket: this.storage.videos,
      eventBus: this.workflow.eventBus,
      ...(props.apiAuth === undefined ? {} : { auth: props.apiAuth }),
    });
    new CfnOutput(this, 'ApiUrl', {
      description: `Base URL of the video API (${this.api.apiKey ? 'send the API key as x-api-key' : 'IAM-signed requests'})`,
      value: this.api.url,
    });
    if (this.api.apiKey) {
      new CfnOutput(this, 'ApiKeyId', {
        description: 'The API key: aws apigateway get-api-key --include-value --api-key <this id>',
        value: this.api.apiKey.keyId,
      });
    }
    this.uploads = new UploadTrigger(this, 'Uploads', {
      jobsTable: this.storage.jobs,
      stateMachine: this.workflow.stateMachine,
      accessLogs: this.storage.accessLogs,
    });
    new CfnOutput(this, 'UploadsBucket', {
      description: `Drop images (with a <image>.json sidecar) under ${this.uploads.prefix} to make videos`,
      value: this.uploads.bucket.bucketName,
    });
    this.batch = new VideoBatch(this, 'Batch', {
      jobs: this.storage.jobs,
      videos: this.storage.videos,
      videoJob: this.workflow.stateMachine,
      ...(props.batch ?? batchSettingsFromContext(this.node)),
    });
    new CfnOutput(this, 'BatchStateMachineArn', {
      description:
        'Start a batch: {"batchId": "...", "manifest": {"bucket": "<videos bucket>", "key": "manifests/..."}}',
      value: this.batch.stateMachine.stateMachineArn,
    });
  }
}

export interface BuildAppOptions {
  /** false: skip esbuild bundling (fast, for tests and the local runner; same definition). @default true */
  readonly bundling?: boolean;
  /** Cloud assembly directory. @default CDK's (cdk.out under the CLI, a temp dir otherwise) */
  readonly outdir?: string;
  /** Extra context, e.g. { segmindApiKeySecretName: 'prod/segmind' }. */
  readonly context?: Record<string, unknown>;
  /**
   * CDK's built-in CloudFormation validation of the template at synth (~3 s of WebAssembly on the first
   * synth of a process). Keep it for real synths; tests and the local runner that only read the
   * template may skip it. @default true
   */
  readonly cloudFormationValidation?: boolean;
}

export interface BuiltApp {
  readonly app: App;
  readonly stack: LtxVideoPipelineStack;
}

/** cdk.json's context (feature flags): the CLI passes it itself, tests and the local runner need it too. */
const cdkJsonContext = (): Record<string, unknown> => {
  const config: unknown = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'));
  if (typeof config === 'object' && config !== null && 'context' in config) {
    const { context } = config;
    if (typeof context === 'object' && context !== null) return { ...context };
  }
  return {};
};

const optionalString = (app: App, key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value;
};

/** A context value given as a number or a numeric string (`-c key=5` passes a string). */
const optionalPositiveNumber = (app: App, key: string): number | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!(Number.isFinite(parsed) && parsed > 0)) throw new Error(`context ${key} must be a positive number`);
  return parsed;
};

export const buildApp = (options: BuildAppOptions = {}): BuiltApp => {
  const context: Record<string, unknown> = { ...cdkJsonContext(), ...options.context };
  // The documented switch: stacks matching none of these patterns are synthesized without bundling.
  if (options.bundling === false) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({
    context,
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    ...(options.cloudFormationValidation === undefined
      ? {}
      : { builtinCloudFormationValidation: options.cloudFormationValidation }),
  });

  const segmindApiKeySecretName = optionalString(app, CONTEXT_KEYS.segmindApiKeySecretName);
  const segmindBaseUrl = optionalString(app, CONTEXT_KEYS.segmindBaseUrl);
  const allowedVideoHosts = optionalString(app, CONTEXT_KEYS.allowedVideoHosts)?.split(',');
  const apiAuth = optionalString(app, CONTEXT_KEYS.apiAuth);
  const segmindRequestsPerMinute = optionalPositiveNumber(app, CONTEXT_KEYS.segmindRequestsPerMinute);
  if (apiAuth !== undefined && !isApiAuth(apiAuth)) {
    throw new Error(
      `context ${CONTEXT_KEYS.apiAuth} must be ${API_AUTH_MODES.join(' or ')}, got "${apiAuth}"`,
    );
  }
  const stack = new LtxVideoPipelineStack(app, STACK_NAME, {
    description: "ltx-video-pipeline: prompts and images to videos with Segmind's LTX-2 Fast",
    ...(segmindApiKeySecretName === undefined ? {} : { segmindApiKeySecretName }),
    ...(segmindBaseUrl === undefined ? {} : { segmindBaseUrl }),
    ...(allowedVideoHosts === undefined ? {} : { allowedVideoHosts }),
    ...(apiAuth === undefined ? {} : { apiAuth }),
    ...(segmindRequestsPerMinute === undefined ? {} : { segmindRequestsPerMinute }),
  });
  Tags.of(stack).add('project', 'ltx-video-pipeline');
  return { app, stack };
};
