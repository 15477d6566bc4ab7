// The house Lambda. Every function of the pipeline is a VideoFunction, so runtime, architecture, tracing,
// bundling and logging are decided here once. The local runner finds them by type and runs `entry`.
import { join, resolve } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct, IConstruct } from 'constructs';
import { PROJECT_ROOT } from '#infra/constructs/handlers';

export const POWERTOOLS_SERVICE_NAME = 'ltx-video-pipeline';
export const POWERTOOLS_METRICS_NAMESPACE = 'LtxVideoPipeline';

export interface VideoFunctionProps extends Omit<NodejsFunctionProps, 'entry' | 'logGroup' | 'logRetention'> {
  /** The handler module exporting `handler` (absolute, or relative to the working directory). */
  readonly entry: string;
  /** How long the function's own log group keeps its logs. @default one month */
  readonly logRetention?: RetentionDays;
}

/**
 * esbuild's ESM output has no `require`; a CommonJS dependency that calls `require('node:…')` would throw
 * "Dynamic require is not supported". Defining it from `import.meta.url` lets such dependencies load.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export class VideoFunction extends NodejsFunction {
  /** Every VideoFunction under `scope`, e.g. to map a state machine's Tasks back to handler modules. */
  static allIn(scope: IConstruct): VideoFunction[] {
    return scope.node.findAll().filter((c): c is VideoFunction => c instanceof VideoFunction);
  }

  /** Absolute path of the handler module this function bundles. */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: VideoFunctionProps) {
    const entry = resolve(props.entry);
    // Siblings rather than children: they must exist before super() runs, when `this` is not yet usable.
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    // Our own role instead of CDK's default one, which attaches AWSLambdaBasicExecutionRole (logs:* on
    // every log group in the account): this one may write to its own log group only.
    const role =
      props.role ??
      new Role(scope, `${id}Role`, {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of the ${id} function`,
      });

    super(scope, id, {
      memorySize: 256,
      timeout: Duration.seconds(30),
      ...props,
      entry,
      role,
      logGroup,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        logLevel: LogLevel.WARNING,
        // Ship the SDK version we test against (checksum and multipart defaults have changed between
        // v3 releases) rather than whatever the runtime happens to include.
        bundleAwsSDK: true,
        ...props.bundling,
      },
    });
    this.entry = entry;
    logGroup.grantWrite(this);

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x on purpose: the Node LTS the project is developed and tested on (the local stack runs ' +
          'the same handlers on Node 20/22), supported by Lambda into 2027. Move runtimes deliberately.',
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason: 'nodejs22.x on purpose, see AwsSolutions-L1.',
      },
    );
    Validations.of(this.role ?? role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no ' +
        'resource-level permissions: "*" is the only valid resource.',
    });
  }
}
