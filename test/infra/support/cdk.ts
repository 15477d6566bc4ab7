// Shared by the infra tests: one temp root per test file for every cloud assembly it synthesizes (CDK
// leaves a cdk.out* folder behind for each App otherwise), and the app synthesized without bundling.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  type AslDefinition,
  type AslState,
  type CfnTemplate,
  definitionFromTemplate,
} from '#infra/definition';
import { type BuildAppOptions, type BuiltApp, buildApp } from '#infra/stack';

export interface AssemblyRoot {
  /** A fresh directory under the root, for one App's outdir. */
  outdir(): string;
  /** Deletes the root and everything under it. */
  cleanup(): void;
}

export const assemblyRoot = (): AssemblyRoot => {
  const root = mkdtempSync(join(tmpdir(), 'ltx-infra-test-'));
  let count = 0;
  return {
    outdir: () => {
      count += 1;
      return join(root, `app-${count}`);
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
};

export interface SynthesizedApp extends BuiltApp {
  readonly template: Template;
  readonly json: CfnTemplate;
}

/**
 * The real app, as `cdk synth` builds it, minus the esbuild bundling and (unless asked for) CDK's
 * CloudFormation validation, which one test runs on its own.
 */
export const synthApp = (root: AssemblyRoot, options: Omit<BuildAppOptions, 'outdir' | 'bundling'> = {}) => {
  const built = buildApp({
    cloudFormationValidation: false,
    ...options,
    bundling: false,
    outdir: root.outdir(),
  });
  const template = Template.fromStack(built.stack);
  return { ...built, template, json: template.toJSON() as CfnTemplate } satisfies SynthesizedApp;
};

/** The logical id of a construct's own CloudFormation resource (its default child) in the app's stack. */
export const logicalIdOf = (app: SynthesizedApp, construct: { node: { defaultChild?: unknown } }): string =>
  app.stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** The VideoJob definition as plain ASL (default fake ARNs: a Lambda's ends in `function:<logicalId>`). */
export const videoJobDefinition = (app: SynthesizedApp): AslDefinition =>
  definitionFromTemplate(app.json, {
    stateMachineLogicalId: app.stack.getLogicalId(
      app.stack.workflow.stateMachine.node.defaultChild as CfnElement,
    ),
  });

/** A state by name, failing loudly when it is missing. */
export const stateOf = (definition: AslDefinition, name: string): AslState => {
  const state = definition.States[name];
  if (state === undefined)
    throw new Error(`No state ${name}; states: ${Object.keys(definition.States).join(', ')}`);
  return state;
};

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

export interface Catcher {
  ErrorEquals: string[];
  ResultPath?: string;
  Next: string;
}

export const retriersOf = (state: AslState): Retrier[] => (state.Retry ?? []) as unknown as Retrier[];
export const catchersOf = (state: AslState): Catcher[] => (state.Catch ?? []) as unknown as Catcher[];

/** A resource's Properties, failing loudly when the resource is missing. */
export const propertiesOf = (json: CfnTemplate, logicalId: string): Readonly<Record<string, unknown>> => {
  const resource = json.Resources?.[logicalId];
  if (resource === undefined) throw new Error(`No resource ${logicalId} in the template`);
  return resource.Properties ?? {};
};

/** The logical id an `{ "Fn::GetAtt": [id, attribute] }` value points at. */
export const getAttTarget = (value: unknown): string => {
  const target = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (!Array.isArray(target) || typeof target[0] !== 'string') {
    throw new Error(`Not an Fn::GetAtt: ${JSON.stringify(value)}`);
  }
  return target[0];
};
