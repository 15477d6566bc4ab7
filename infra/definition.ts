// Turns a synthesized state machine back into plain ASL JSON. CloudFormation templates carry the definition
// as intrinsic functions (Fn::Join of strings and Fn::GetAtt of our Lambdas, Ref of pseudo parameters);
// the tests and the local runner resolve those with resolvers of their own to get JSON they can run.

/** A CloudFormation template, as far as we read it. */
export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResource>>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** An Amazon States Language state: its `Type` plus whatever that type carries. */
export interface AslState {
  readonly Type: string;
  readonly [field: string]: Json | undefined;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly Comment?: string;
  readonly TimeoutSeconds?: number;
  readonly QueryLanguage?: string;
}

export interface PseudoParameters {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly urlSuffix: string;
  readonly stackName: string;
}

export const DEFAULT_PSEUDO_PARAMETERS: PseudoParameters = Object.freeze({
  partition: 'aws',
  region: 'us-east-1',
  accountId: '123456789012',
  urlSuffix: 'amazonaws.com',
  stackName: 'LtxVideoPipeline',
});

export interface IntrinsicResolvers {
  /** `Fn::GetAtt [logicalId, attribute]`. Return undefined to fall back to the default. */
  readonly resolveGetAtt?: (
    logicalId: string,
    attribute: string,
    resource: CfnResource | undefined,
  ) => string | undefined;
  /** `Ref logicalId` of a resource (not a pseudo parameter). Return undefined to fall back to the default. */
  readonly resolveRef?: (logicalId: string, resource: CfnResource | undefined) => string | undefined;
  /** Values of `AWS::Partition`, `AWS::Region`, … @default DEFAULT_PSEUDO_PARAMETERS */
  readonly pseudo?: Partial<PseudoParameters>;
}

export interface DefinitionOptions extends IntrinsicResolvers {
  /** Which state machine, when the template has more than one. */
  readonly stateMachineLogicalId?: string;
}

export class DefinitionResolutionError extends Error {
  override readonly name = 'DefinitionResolutionError';
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Default values: fake but well-formed ARNs and names, derived from the logical id, so that a resolved
 * definition still says which resource each Task uses. A Lambda's ARN ends in `function:<logicalId>`.
 */
const defaultGetAtt = (
  logicalId: string,
  attribute: string,
  resource: CfnResource | undefined,
  p: PseudoParameters,
): string => {
  const prefix = (service: string) => `arn:${p.partition}:${service}:${p.region}:${p.accountId}`;
  switch (`${resource?.Type ?? 'unknown'}.${attribute}`) {
    case 'AWS::Lambda::Function.Arn':
      return `${prefix('lambda')}:function:${logicalId}`;
    case 'AWS::DynamoDB::Table.Arn':
      return `${prefix('dynamodb')}:table/${logicalId}`;
    case 'AWS::S3::Bucket.Arn':
      return `arn:${p.partition}:s3:::${logicalId.toLowerCase()}`;
    case 'AWS::Events::EventBus.Arn':
      return `${prefix('events')}:event-bus/${logicalId}`;
    case 'AWS::StepFunctions::StateMachine.Arn':
      return `${prefix('states')}:stateMachine:${logicalId}`;
    case 'AWS::Logs::LogGroup.Arn':
      return `${prefix('logs')}:log-group:${logicalId}:*`;
    default:
      return `${logicalId}.${attribute}`;
  }
};

const defaultRef = (logicalId: string, resource: CfnResource | undefined, p: PseudoParameters): string => {
  switch (resource?.Type) {
    case 'AWS::S3::Bucket':
      return logicalId.toLowerCase();
    case 'AWS::Lambda::Function':
    case 'AWS::DynamoDB::Table':
    case 'AWS::Events::EventBus':
    case 'AWS::Logs::LogGroup':
      return logicalId;
    case 'AWS::SecretsManager::Secret':
      return `arn:${p.partition}:secretsmanager:${p.region}:${p.accountId}:secret:${logicalId}-AbCdEf`;
    case 'AWS::StepFunctions::StateMachine':
      return defaultGetAtt(logicalId, 'Arn', resource, p);
    default:
      return logicalId;
  }
};

/** Resolves the intrinsic functions CDK emits (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split). */
export const resolveIntrinsics = (
  value: unknown,
  template: CfnTemplate,
  resolvers: IntrinsicResolvers = {},
): Json => {
  const pseudo: PseudoParameters = { ...DEFAULT_PSEUDO_PARAMETERS, ...resolvers.pseudo };
  const resources = template.Resources ?? {};

  const ref = (name: string): string => {
    switch (name) {
      case 'AWS::Partition':
        return pseudo.partition;
      case 'AWS::Region':
        return pseudo.region;
      case 'AWS::AccountId':
        return pseudo.accountId;
      case 'AWS::URLSuffix':
        return pseudo.urlSuffix;
      case 'AWS::StackName':
        return pseudo.stackName;
      case 'AWS::NoValue':
        throw new DefinitionResolutionError('Ref AWS::NoValue is not supported inside a definition');
    }
    const resource = resources[name];
    return resolvers.resolveRef?.(name, resource) ?? defaultRef(name, resource, pseudo);
  };

  const getAtt = (logicalId: string, attribute: string): string => {
    const resource = resources[logicalId];
    return (
      resolvers.resolveGetAtt?.(logicalId, attribute, resource) ??
      defaultGetAtt(logicalId, attribute, resource, pseudo)
    );
  };

  const asString = (resolved: Json, what: string): string => {
    if (typeof resolved !== 'string') throw new DefinitionResolutionError(`${what} must resolve to a string`);
    return resolved;
  };

  const sub = (text: string, variables: Record<string, unknown>): string =>
    text.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
      if (name in variables) return asString(resolve(variables[name]), `Fn::Sub variable ${name}`);
      const dot = name.indexOf('.');
      return dot > 0 && !name.startsWith('AWS::')
        ? getAtt(name.slice(0, dot), name.slice(dot + 1))
        : ref(name);
    });

  const resolveFunction = (name: string, args: unknown): Json => {
    switch (name) {
      case 'Ref':
        return ref(asString(args as Json, 'Ref'));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = typeof args === 'string' ? args.split(/\.(.*)/s) : (args as unknown[]);
        if (typeof logicalId !== 'string' || typeof attribute !== 'string') {
          throw new DefinitionResolutionError(
            `Fn::GetAtt needs [logicalId, attribute], got ${JSON.stringify(args)}`,
          );
        }
        return getAtt(logicalId, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = args as [unknown, unknown];
        const list = resolve(parts);
        if (typeof separator !== 'string' || !Array.isArray(list)) {
          throw new DefinitionResolutionError('Fn::Join needs [separator, [parts]]');
        }
        return list.map((part) => asString(part, 'Fn::Join part')).join(separator);
      }
      case 'Fn::Sub': {
        if (typeof args === 'string') return sub(args, {});
        const [text, variables] = args as [unknown, unknown];
        if (typeof text !== 'string' || !isRecord(variables))
          throw new DefinitionResolutionError('Fn::Sub needs [text, {vars}]');
        return sub(text, variables);
      }
      case 'Fn::Select': {
        const [index, list] = args as [unknown, unknown];
        const resolvedList = resolve(list);
        const position = Number(resolve(index));
        if (
          !Array.isArray(resolvedList) ||
          !Number.isInteger(position) ||
          resolvedList[position] === undefined
        ) {
          throw new DefinitionResolutionError(`Fn::Select index ${String(index)} is out of range`);
        }
        return resolvedList[position];
      }
      case 'Fn::Split': {
        const [separator, text] = args as [unknown, unknown];
        if (typeof separator !== 'string')
          throw new DefinitionResolutionError('Fn::Split needs a string separator');
        return asString(resolve(text), 'Fn::Split source').split(separator);
      }
      default:
        throw new DefinitionResolutionError(`Unsupported intrinsic function ${name}`);
    }
  };

  const resolve = (node: unknown): Json => {
    if (node === null || typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
      return node;
    }
    if (Array.isArray(node)) return node.map(resolve);
    if (isRecord(node)) {
      const keys = Object.keys(node);
      const only = keys.length === 1 ? keys[0] : undefined;
      if (only !== undefined && (only === 'Ref' || only.startsWith('Fn::')))
        return resolveFunction(only, node[only]);
      return Object.fromEntries(keys.map((key) => [key, resolve(node[key])]));
    }
    throw new DefinitionResolutionError(`Cannot resolve a value of type ${typeof node}`);
  };

  return resolve(value);
};

/** Logical ids of the template's state machines. */
export const stateMachineLogicalIds = (template: CfnTemplate): string[] =>
  Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine')
    .map(([logicalId]) => logicalId);

/** The state machine's definition as plain ASL JSON, every intrinsic resolved. */
export const definitionFromTemplate = (
  template: CfnTemplate,
  options: DefinitionOptions = {},
): AslDefinition => {
  const ids = stateMachineLogicalIds(template);
  const logicalId = options.stateMachineLogicalId ?? (ids.length === 1 ? ids[0] : undefined);
  if (logicalId === undefined) {
    throw new DefinitionResolutionError(
      ids.length === 0
        ? 'The template has no AWS::StepFunctions::StateMachine'
        : `The template has several state machines (${ids.join(', ')}): pass stateMachineLogicalId`,
    );
  }
  const properties = template.Resources?.[logicalId]?.Properties;
  if (properties === undefined || !ids.includes(logicalId)) {
    throw new DefinitionResolutionError(`${logicalId} is not a state machine of this template`);
  }

  let definition: unknown;
  if (properties.Definition !== undefined) {
    definition = resolveIntrinsics(properties.Definition, template, options);
  } else {
    let text = resolveIntrinsics(properties.DefinitionString, template, options);
    if (typeof text !== 'string')
      throw new DefinitionResolutionError(`${logicalId}: DefinitionString is not a string`);
    const substitutions = resolveIntrinsics(properties.DefinitionSubstitutions ?? {}, template, options);
    if (isRecord(substitutions)) {
      for (const [name, value] of Object.entries(substitutions)) {
        // Substituted inside JSON strings: escape as a JSON string body.
        text = text.replaceAll(`\${${name}}`, JSON.stringify(String(value)).slice(1, -1));
      }
    }
    definition = JSON.parse(text);
  }
  if (!isRecord(definition) || typeof definition.StartAt !== 'string' || !isRecord(definition.States)) {
    throw new DefinitionResolutionError(`${logicalId}: the definition has no StartAt/States`);
  }
  return definition as unknown as AslDefinition;
};

/**
 * The Lambda function a Task invokes, however it is written: a plain function ARN as `Resource`
 * (`payloadResponseOnly`), or `arn:…:states:::lambda:invoke` with `Parameters.FunctionName`.
 */
export const lambdaFunctionOf = (state: AslState): string | undefined => {
  if (state.Type !== 'Task' || typeof state.Resource !== 'string') return undefined;
  if (/^arn:[^:]+:lambda:/.test(state.Resource)) return state.Resource;
  if (/^arn:[^:]+:states:::lambda:invoke(\.waitForTaskToken)?$/.test(state.Resource)) {
    const parameters = state.Parameters;
    const name = isRecord(parameters) ? parameters.FunctionName : undefined;
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
};
