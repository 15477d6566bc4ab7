// What each Task `Resource` of the synthesized definition does locally. The interpreter only knows how to
// call real Lambda; every integration the workflow uses is mapped here, generically by its ARN, to the
// same call against the local stand-ins — with AWS's request, response and error shapes — so the
// definition's Parameters, ResultSelector, Retry and Catch behave as they do on AWS.
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { LocalEventBus, PutEventsEntry } from '#local/event-bus';
import type { LocalLambdaRuntime } from '#local/lambda-runtime';

export interface TaskResourceDeps {
  lambda: LocalLambdaRuntime;
  dynamodb: DynamoDBClient;
  events: LocalEventBus;
}

/** What one Task does: `kind` names the integration (for statistics), `run` takes the processed Parameters. */
export interface TaskResource {
  kind: 'lambda' | `dynamodb:${DynamoOperation}` | 'events:putEvents';
  /** The Lambda function's local name, for Lambda tasks. */
  functionName?: string;
  run(input: unknown): Promise<unknown>;
}

/** An error as Step Functions names it for a service integration (e.g. `DynamoDB.ConditionalCheckFailedException`). */
export class ServiceIntegrationError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

const DYNAMO_OPERATIONS = ['getItem', 'putItem', 'updateItem', 'deleteItem'] as const;
type DynamoOperation = (typeof DYNAMO_OPERATIONS)[number];

const OPTIMISED = /^arn:aws[\w-]*:states:::(?<service>[\w-]+):(?<action>\w+)$/;
const LAMBDA_FUNCTION = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;

/**
 * The local implementation of a Task's Resource. Throws for any integration it does not know (or a
 * `.sync` / `.waitForTaskToken` pattern): running it against real AWS by accident would be worse.
 */
export const taskResource = (stateName: string, resource: string, deps: TaskResourceDeps): TaskResource => {
  if (LAMBDA_FUNCTION.test(resource)) {
    // The plain function ARN form: the state input is the payload and the result is the function's output.
    const fn = deps.lambda.find(resource);
    return { kind: 'lambda', functionName: fn.name, run: (input) => deps.lambda.invoke(fn, input) };
  }
  const match = OPTIMISED.exec(resource);
  const service = match?.groups?.service;
  const action = match?.groups?.action;
  if (service === 'lambda' && action === 'invoke') {
    return lambdaInvoke(stateName, deps.lambda);
  }
  if (service === 'dynamodb' && isDynamoOperation(action)) {
    return { kind: `dynamodb:${action}`, run: (input) => dynamoCall(action, input, deps.dynamodb) };
  }
  if (service === 'events' && action === 'putEvents') {
    return { kind: 'events:putEvents', run: async (input) => putEvents(input, deps.events) };
  }
  throw new Error(
    `State ${stateName}: the local runner has no implementation for Task resource ${resource}. ` +
      'Add one to infra/local/task-resources.ts before using this integration.',
  );
};

const isDynamoOperation = (action: string | undefined): action is DynamoOperation =>
  (DYNAMO_OPERATIONS as readonly (string | undefined)[]).includes(action);

/**
 * `arn:aws:states:::lambda:invoke`: the Parameters are the Invoke request; the result is the Invoke
 * response, so CDK's ResultSelector on `$.Payload` applies unchanged. The function is resolved per call
 * because FunctionName may come from the state input.
 */
const lambdaInvoke = (stateName: string, lambda: LocalLambdaRuntime): TaskResource => ({
  kind: 'lambda',
  run: async (input) => {
    const request = asObject(input, `${stateName} (lambda:invoke Parameters)`);
    const functionName = request.FunctionName;
    if (typeof functionName !== 'string') {
      throw new Error(`State ${stateName}: lambda:invoke Parameters have no FunctionName`);
    }
    if (request.InvocationType !== undefined && request.InvocationType !== 'RequestResponse') {
      throw new Error(`State ${stateName}: only RequestResponse invocations run locally`);
    }
    const fn = lambda.find(functionName);
    const payload = await lambda.invoke(fn, request.Payload ?? {});
    return {
      ExecutedVersion: '$LATEST',
      Payload: payload,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
      StatusCode: 200,
    };
  },
});

const dynamoCall = async (
  operation: DynamoOperation,
  input: unknown,
  client: DynamoDBClient,
): Promise<unknown> => {
  const request = asObject(input, `dynamodb:${operation} Parameters`);
  try {
    const { $metadata: _, ...response } = await sendDynamo(client, operation, request);
    return response;
  } catch (error) {
    throw dynamoError(error);
  }
};

// The Parameters are the low-level API request, exactly as the SDK command takes it.
const sendDynamo = (client: DynamoDBClient, operation: DynamoOperation, request: Record<string, unknown>) => {
  switch (operation) {
    case 'getItem':
      return client.send(new GetItemCommand(request as unknown as GetItemCommandInput));
    case 'putItem':
      return client.send(new PutItemCommand(request as unknown as PutItemCommandInput));
    case 'updateItem':
      return client.send(new UpdateItemCommand(request as unknown as UpdateItemCommandInput));
    case 'deleteItem':
      return client.send(new DeleteItemCommand(request as unknown as DeleteItemCommandInput));
  }
};

/** Step Functions prefixes the service's exception name and appends the service details to the message. */
const dynamoError = (error: unknown): ServiceIntegrationError => {
  if (!(error instanceof Error))
    return new ServiceIntegrationError('DynamoDB.AmazonDynamoDBException', String(error));
  const metadata = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  const name = error.name && error.name !== 'Error' ? error.name : 'AmazonDynamoDBException';
  return new ServiceIntegrationError(
    `DynamoDB.${name}`,
    `${error.message} (Service: DynamoDb, Status Code: ${metadata?.httpStatusCode ?? 400}, ` +
      `Request ID: ${metadata?.requestId ?? 'local'})`,
  );
};

const putEvents = (input: unknown, bus: LocalEventBus): unknown => {
  const request = asObject(input, 'events:putEvents Parameters');
  if (!Array.isArray(request.Entries)) {
    throw new ServiceIntegrationError('EventBridge.ValidationException', 'Entries must be a list');
  }
  return bus.putEvents(request.Entries as PutEventsEntry[]);
};

const asObject = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
};
