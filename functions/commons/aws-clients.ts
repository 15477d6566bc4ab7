// One SDK client per service per container, created on first use. On AWS the defaults are right; the
// local stack calls configureAwsClients() once, before any handler runs, to point them at its servers.
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, type EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClientOverrides {
  s3?: S3ClientConfig;
  dynamodb?: DynamoDBClientConfig;
  sfn?: SFNClientConfig;
  eventBridge?: EventBridgeClientConfig;
}

let overrides: AwsClientOverrides = {};
let s3: S3Client | undefined;
let documentClient: DynamoDBDocumentClient | undefined;
let sfn: SFNClient | undefined;
let eventBridge: EventBridgeClient | undefined;

/** Local wiring only. Must run before the first client is created; later calls would be silently ignored. */
export const configureAwsClients = (config: AwsClientOverrides): void => {
  if (s3 || documentClient || sfn || eventBridge) {
    throw new Error('configureAwsClients() must be called before any AWS client is used');
  }
  overrides = config;
};

export const s3Client = (): S3Client => {
  s3 ??= new S3Client(overrides.s3 ?? {});
  return s3;
};

export const dynamoDocumentClient = (): DynamoDBDocumentClient => {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient(overrides.dynamodb ?? {}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
};

export const sfnClient = (): SFNClient => {
  sfn ??= new SFNClient(overrides.sfn ?? {});
  return sfn;
};

export const eventBridgeClient = (): EventBridgeClient => {
  eventBridge ??= new EventBridgeClient(overrides.eventBridge ?? {});
  return eventBridge;
};
