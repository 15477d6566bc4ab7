// Reads the synthesized CloudFormation template for the local stack: the local name of each resource and
// the tables' definitions (keys and indexes, so local and AWS cannot drift). Names come from the same
// intrinsic resolution that turns the state machine into plain ASL, so a Task's `Ref` of the jobs table
// and the table created locally are one name.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  type CfnResource,
  type CfnTemplate,
  DEFAULT_PSEUDO_PARAMETERS,
  resolveIntrinsics,
} from '#infra/definition';

export type { CfnResource, CfnTemplate };

export const LOCAL_ACCOUNT = DEFAULT_PSEUDO_PARAMETERS.accountId;
export const LOCAL_REGION = DEFAULT_PSEUDO_PARAMETERS.region;

export const resourcesOfType = (template: CfnTemplate, type: string): [string, CfnResource][] =>
  Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Type === type);

/** What `Ref` of a resource gives locally: its local name (an ARN for a state machine or secret). */
export const localRef = (template: CfnTemplate, logicalId: string): string => {
  const value = resolveIntrinsics({ Ref: logicalId }, template);
  if (typeof value !== 'string') throw new Error(`Ref ${logicalId} did not resolve to a string`);
  return value;
};

/** What `Fn::GetAtt [logicalId, 'Arn']` gives locally. */
export const localArn = (template: CfnTemplate, logicalId: string): string => {
  const value = resolveIntrinsics({ 'Fn::GetAtt': [logicalId, 'Arn'] }, template);
  if (typeof value !== 'string') throw new Error(`${logicalId}.Arn did not resolve to a string`);
  return value;
};

type Index = {
  IndexName?: unknown;
  KeySchema?: unknown;
  Projection?: unknown;
  ProvisionedThroughput?: unknown;
};

const DEFAULT_THROUGHPUT = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };

/** CreateTable input for the local DynamoDB, from an AWS::DynamoDB::Table's own key schema and indexes. */
export const createTableInput = (template: CfnTemplate, logicalId: string): CreateTableCommandInput => {
  const resource = template.Resources?.[logicalId];
  if (resource?.Type !== 'AWS::DynamoDB::Table')
    throw new Error(`${logicalId} is not an AWS::DynamoDB::Table`);
  const props = resource.Properties ?? {};
  const onDemand = props.BillingMode === 'PAY_PER_REQUEST';
  // Only what shapes keys and queries; encryption, PITR, streams and TTL have no local meaning.
  const index = ({ IndexName, KeySchema, Projection, ProvisionedThroughput }: Index) => ({
    IndexName,
    KeySchema,
    Projection,
    ...(onDemand ? {} : { ProvisionedThroughput: ProvisionedThroughput ?? DEFAULT_THROUGHPUT }),
  });
  const globalIndexes = (props.GlobalSecondaryIndexes as Index[] | undefined) ?? [];
  const localIndexes = (props.LocalSecondaryIndexes as Index[] | undefined) ?? [];
  return {
    TableName: localRef(template, logicalId),
    KeySchema: props.KeySchema,
    AttributeDefinitions: props.AttributeDefinitions,
    BillingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ...(onDemand ? {} : { ProvisionedThroughput: props.ProvisionedThroughput ?? DEFAULT_THROUGHPUT }),
    ...(globalIndexes.length > 0 ? { GlobalSecondaryIndexes: globalIndexes.map(index) } : {}),
    ...(localIndexes.length > 0
      ? {
          LocalSecondaryIndexes: localIndexes.map(({ IndexName, KeySchema, Projection }) => ({
            IndexName,
            KeySchema,
            Projection,
          })),
        }
      : {}),
  } as CreateTableCommandInput;
};
