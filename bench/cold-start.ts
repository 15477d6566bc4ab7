// Part 4 of the bench: how big each Lambda bundle is and how long a fresh Node process takes to import it.
// The bundles are made by CDK itself — the app synthesized WITH bundling, so every VideoFunction goes through
// NodejsFunction's own esbuild invocation (ESM, minify, target node22, no externals since bundleAwsSDK, the
// createRequire banner, source maps) — and each is imported with the environment its template gives it,
// NODE_OPTIONS=--enable-source-maps included, as Lambda would load it. Only the import is timed: Node's own
// start-up and Lambda's runtime bootstrap come on top.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { CfnResource as CdkCfnResource } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { median, round } from '#bench/stats';
import { PROJECT_ROOT } from '#infra/constructs/handlers';
import { VideoFunction } from '#infra/constructs/video-function';
import { type CfnTemplate, DEFAULT_PSEUDO_PARAMETERS, resolveIntrinsics } from '#infra/definition';
import { buildApp } from '#infra/stack';

const run = promisify(execFile);

export const BUNDLE_TARGET_BYTES = 1_000_000;
export const IMPORT_TARGET_MS = 150;

export interface ColdStartOptions {
  quick: boolean;
  /** Fresh processes per bundle. @default 7, or 5 with quick */
  runs?: number;
}

export interface BundleResult {
  /** The function's construct path, e.g. `VideoJobWorkflow/PollStatusFunction`. */
  function: string;
  /** The handler module, relative to the project. */
  entry: string;
  memoryMb: number;
  bundleBytes: number;
  sourceMapBytes: number;
  importMs: number[];
  importMedianMs: number;
  bundleMet: boolean;
  importMet: boolean;
}

export interface ColdStartResult {
  nodeVersion: string;
  runs: number;
  bundles: BundleResult[];
  /** The packages that weigh most in the bundles (bytes in the output, summed over bundles / count). */
  heaviestPackages: Array<{ name: string; averageBytes: number; share: number }>;
  bundlingSeconds: number;
}

interface FunctionBundle {
  path: string;
  entry: string;
  memoryMb: number;
  dir: string;
  environment: Record<string, string>;
}

/** Synthesizes the app with bundling into `outdir` and finds each function's bundle and environment. */
const bundleWithCdk = (outdir: string): FunctionBundle[] => {
  const validation = process.env.CDK_VALIDATION;
  // CDK's built-in template linter takes seconds and changes nothing in the bundles.
  process.env.CDK_VALIDATION = 'false';
  try {
    const { app, stack } = buildApp({
      outdir,
      context: { '@aws-cdk/core:validateAgainstDefaultRules': false },
    });
    const template = app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
    const seen = new Set<string>();
    return VideoFunction.allIn(stack).flatMap((fn): FunctionBundle[] => {
      if (seen.has(fn.entry)) return [];
      seen.add(fn.entry);
      const id = stack.getLogicalId(fn.node.defaultChild as CdkCfnResource);
      const props = template.Resources?.[id]?.Properties ?? {};
      const code = props.Code as { S3Key?: unknown } | undefined;
      if (typeof code?.S3Key !== 'string') throw new Error(`${id}: no bundled asset in the template`);
      const variables = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      return [
        {
          path: fn.node.path.split('/').slice(1).join('/'),
          entry: relative(PROJECT_ROOT, fn.entry),
          memoryMb: typeof props.MemorySize === 'number' ? props.MemorySize : 128,
          dir: join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`),
          environment: Object.fromEntries(
            Object.entries(variables ?? {}).map(([name, value]) => [
              name,
              String(resolveIntrinsics(value, template)),
            ]),
          ),
        },
      ];
    });
  } finally {
    if (validation === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = validation;
  }
};

/** Runs in the fresh process: times the dynamic import alone and prints the milliseconds. */
const IMPORT_SCRIPT =
  'const t=performance.now();await import(process.env.BENCH_BUNDLE_URL);' +
  'process.stdout.write(JSON.stringify({ms:performance.now()-t}));';

/** One import of the bundle in a fresh `node`, with only the variables Lambda itself would set. */
const timeImport = async (bundle: FunctionBundle, file: string): Promise<number> => {
  const name = basename(bundle.path);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    LANG: 'C.UTF-8',
    TZ: ':UTC',
    AWS_REGION: DEFAULT_PSEUDO_PARAMETERS.region,
    AWS_DEFAULT_REGION: DEFAULT_PSEUDO_PARAMETERS.region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(bundle.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    LAMBDA_TASK_ROOT: bundle.dir,
    ...bundle.environment,
    BENCH_BUNDLE_URL: pathToFileURL(file).href,
  };
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT], {
    env,
    cwd: bundle.dir,
    timeout: 30_000,
  });
  const parsed: unknown = JSON.parse(stdout);
  const ms = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'ms') : undefined;
  if (typeof ms !== 'number') throw new Error(`${bundle.path}: the import printed ${stdout}`);
  return ms;
};

/** Which packages make the bundles big: esbuild's metafile for the same entries and main options. */
const heaviestPackages = async (
  entries: readonly string[],
  outdir: string,
): Promise<ColdStartResult['heaviestPackages']> => {
  const result = await build({
    entryPoints: entries.map((entry) => join(PROJECT_ROOT, entry)),
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    mainFields: ['module', 'main'],
    outdir,
    outExtension: { '.js': '.mjs' },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const bytesByPackage = new Map<string, number>();
  let total = 0;
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? '(project code)';
      bytesByPackage.set(name, (bytesByPackage.get(name) ?? 0) + input.bytesInOutput);
      total += input.bytesInOutput;
    }
  }
  return [...bytesByPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, bytes]) => ({
      name,
      averageBytes: Math.round(bytes / entries.length),
      share: round(bytes / total, 3),
    }));
};

export const runColdStartBench = async (options: ColdStartOptions): Promise<ColdStartResult> => {
  const runs = options.runs ?? (options.quick ? 5 : 7);
  const outdir = await mkdtemp(join(tmpdir(), 'ltx-bench-bundles-'));
  try {
    const started = performance.now();
    const functions = bundleWithCdk(outdir);
    const bundlingSeconds = (performance.now() - started) / 1000;
    const bundles: BundleResult[] = [];
    for (const fn of functions) {
      const files = await readdir(fn.dir);
      const main = files.find((file) => file === 'index.mjs');
      if (!main) throw new Error(`${fn.path}: no index.mjs in ${fn.dir} (${files.join(', ')})`);
      const file = join(fn.dir, main);
      const map = files.includes('index.mjs.map') ? (await stat(`${file}.map`)).size : 0;
      const bundleBytes = (await stat(file)).size;
      const importMs: number[] = [];
      // One at a time: parallel processes on two cores would measure the machine, not the bundle.
      for (let i = 0; i < runs; i += 1) importMs.push(await timeImport(fn, file));
      const importMedianMs = median(importMs);
      bundles.push({
        function: fn.path,
        entry: fn.entry,
        memoryMb: fn.memoryMb,
        bundleBytes,
        sourceMapBytes: map,
        importMs: importMs.map((ms) => round(ms, 1)),
        importMedianMs: round(importMedianMs, 1),
        bundleMet: bundleBytes <= BUNDLE_TARGET_BYTES,
        importMet: importMedianMs <= IMPORT_TARGET_MS,
      });
    }
    return {
      nodeVersion: process.version,
      runs,
      bundles,
      heaviestPackages: await heaviestPackages(
        functions.map((fn) => fn.entry),
        join(outdir, 'metafile'),
      ),
      bundlingSeconds: round(bundlingSeconds, 1),
    };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
};
