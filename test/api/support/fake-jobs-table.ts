// The jobs table behind aws-sdk-client-mock: the handlers send their real DynamoDB commands, and this
// answers them from memory with the semantics they rely on — conditional puts, the two condition forms
// the updates use, and byStatus queries with paging. The tests also read the commands sent.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { VideoJob } from '#domain/video-job';

type Item = Record<string, unknown>;
type Values = Record<string, unknown>;

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const nameOf = (token: string, names: Record<string, string> | undefined): string =>
  token.startsWith('#') ? (names?.[token] ?? token) : token;

/** Evaluates `attribute_(not_)exists(#k)`, `#a IN (:v, …)` and `NOT (#a IN (:v, …))`, joined by AND. */
const holds = (
  item: Item | undefined,
  condition: string | undefined,
  names?: Record<string, string>,
  values?: Values,
) => {
  if (condition === undefined) return true;
  return condition.split(/\s+AND\s+/).every((part) => {
    const exists = /^attribute_(not_)?exists\((#?\w+)\)$/.exec(part.trim());
    if (exists) {
      const present = item !== undefined && item[nameOf(exists[2] ?? '', names)] !== undefined;
      return exists[1] ? !present : present;
    }
    const notIn = /^NOT \((#?\w+) IN \(([^)]*)\)\)$/.exec(part.trim());
    if (notIn) {
      const value = item?.[nameOf(notIn[1] ?? '', names)];
      const options = (notIn[2] ?? '').split(',').map((v) => values?.[v.trim()]);
      return !options.includes(value);
    }
    const isIn = /^(#?\w+) IN \(([^)]*)\)$/.exec(part.trim());
    if (isIn) {
      const value = item?.[nameOf(isIn[1] ?? '', names)];
      const options = (isIn[2] ?? '').split(',').map((v) => values?.[v.trim()]);
      return value !== undefined && options.includes(value);
    }
    throw new Error(`fake table cannot evaluate condition part: ${part}`);
  });
};

const newestFirst = (a: Item, b: Item): number =>
  String(a.createdAt) === String(b.createdAt)
    ? String(a.jobId) < String(b.jobId)
      ? 1
      : -1
    : String(a.createdAt) < String(b.createdAt)
      ? 1
      : -1;

export interface FakeJobsTable {
  readonly mock: AwsClientStub<DynamoDBDocumentClient>;
  readonly items: Map<string, Item>;
  put(job: VideoJob): void;
  get(jobId: string): VideoJob | undefined;
  reset(): void;
}

export const fakeJobsTable = (): FakeJobsTable => {
  const mock = mockClient(DynamoDBDocumentClient);
  const items = new Map<string, Item>();

  const install = () => {
    mock.on(PutCommand).callsFake((input: PutCommand['input']) => {
      const item = input.Item as Item;
      const key = String(item.jobId);
      if (!holds(items.get(key), input.ConditionExpression, input.ExpressionAttributeNames))
        throw conditionFailed();
      items.set(key, structuredClone(item));
      return {};
    });
    mock.on(GetCommand).callsFake((input: GetCommand['input']) => {
      const item = items.get(String(input.Key?.jobId));
      return item === undefined ? {} : { Item: structuredClone(item) };
    });
    mock.on(UpdateCommand).callsFake((input: UpdateCommand['input']) => {
      const key = String(input.Key?.jobId);
      const current = items.get(key);
      const names = input.ExpressionAttributeNames;
      const values = input.ExpressionAttributeValues;
      if (!holds(current, input.ConditionExpression, names, values)) throw conditionFailed();
      const next: Item = { ...(current ?? { jobId: key }) };
      const set = /^SET (.*)$/.exec(input.UpdateExpression ?? '')?.[1] ?? '';
      for (const clause of set.split(',')) {
        const [left, right] = clause.split('=').map((s) => s.trim());
        if (left === undefined || right === undefined || !right.startsWith(':')) {
          throw new Error(`fake table cannot apply update clause: ${clause}`);
        }
        next[nameOf(left, names)] = values?.[right];
      }
      items.set(key, next);
      return { Attributes: structuredClone(next) };
    });
    mock.on(QueryCommand).callsFake((input: QueryCommand['input']) => {
      // byStatus: every item of one status; byOwner: one owner's items, a status FilterExpression applied
      // after the read (Limit counts items read), as DynamoDB does.
      const index = input.IndexName;
      if (index !== 'byStatus' && index !== 'byOwner') throw new Error(`fake table has no index ${index}`);
      const partition = index === 'byStatus' ? 'status' : 'owner';
      const value = input.ExpressionAttributeValues?.[`:${partition}`];
      const filter = index === 'byOwner' ? input.ExpressionAttributeValues?.[':status'] : undefined;
      const start = input.ExclusiveStartKey;
      const ordered = [...items.values()].filter((i) => i[partition] === value).sort(newestFirst);
      const after = start === undefined ? ordered : ordered.filter((i) => newestFirst(i, start) > 0);
      const limit = input.Limit ?? Number.POSITIVE_INFINITY;
      const page = after.slice(0, limit);
      const last = page.at(-1);
      return {
        Items: page.filter((i) => filter === undefined || i.status === filter).map((i) => structuredClone(i)),
        ...(page.length === limit && last
          ? {
              LastEvaluatedKey: {
                jobId: last.jobId,
                [partition]: last[partition],
                createdAt: last.createdAt,
              },
            }
          : {}),
      };
    });
  };
  install();

  return {
    mock,
    items,
    put: (job) => {
      items.set(job.jobId, structuredClone(job) as unknown as Item);
    },
    get: (jobId) => {
      const item = items.get(jobId);
      return item === undefined ? undefined : (structuredClone(item) as unknown as VideoJob);
    },
    reset: () => {
      items.clear();
      mock.reset();
      install();
    },
  };
};
