// The request budget on a real (local) DynamoDB: slots spaced by the rate, reservations for paid work,
// submits yielding beyond the reserve with a place in line — and many concurrent callers, none of whom
// may ever share a slot (single-item conditional writes only: dynalite has no transactions).
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetIdOf, DynamoRequestBudget } from '#adapters/request-budget';
import type { BudgetDecision, BudgetSettings } from '#domain/request-budget';

const TABLE = 'request-budget';
let server: ReturnType<typeof dynalite>;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await raw.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'budgetId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'budgetId', KeyType: 'HASH' }],
    }),
  );
  client = DynamoDBDocumentClient.from(raw);
});
afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

/** 60 RPM at time scale 1: one slot per second. */
const SETTINGS: BudgetSettings = {
  requestsPerMinute: 60,
  timeScale: 1,
  submitReserve: 2,
  latencyMarginMs: 0,
};
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

let keys = 0;
const newBudget = (settings: BudgetSettings = SETTINGS) => {
  const budgetId = budgetIdOf(`SG_test_key_${++keys}`);
  return {
    budgetId,
    budget: new DynamoRequestBudget({ client, tableName: TABLE, budgetId: async () => budgetId, settings }),
  };
};

const slotOf = (decision: BudgetDecision): number => {
  if (decision.kind !== 'granted') throw new Error(`expected a slot, got ${JSON.stringify(decision)}`);
  return decision.slotAt.getTime() - T0;
};

describe('request budget (DynamoDB adapter on dynalite)', () => {
  it('keys the item by a hash of the API key, never the key itself', async () => {
    const { budget, budgetId } = newBudget();
    await budget.acquire('status', at(0));
    expect(budgetId).toMatch(/^segmind#[0-9a-f]{32}$/);
    expect(budgetId).not.toContain('SG_test_key');
    const { Item } = await client.send(new GetCommand({ TableName: TABLE, Key: { budgetId } }));
    expect(Item?.nextSlotMs).toBe(T0 + 1000);
  });

  it('grants an idle budget now, then reserves the following slots one interval apart for paid work', async () => {
    const { budget } = newBudget();
    const slots = [];
    for (let i = 0; i < 5; i += 1)
      slots.push(slotOf(await budget.acquire(i % 2 ? 'result' : 'status', at(0))));
    expect(slots).toEqual([0, 1000, 2000, 3000, 4000]);
    // Once time has passed the queue, the budget is idle again: the slot is now.
    expect(slotOf(await budget.acquire('status', at(9000)))).toBe(9000);
  });

  it('lets a submit take a slot only within the reserve; beyond it the submit yields with a place in line', async () => {
    const { budget } = newBudget();
    expect(slotOf(await budget.acquire('submit', at(0)))).toBe(0);
    expect(slotOf(await budget.acquire('submit', at(0)))).toBe(1000);
    expect(slotOf(await budget.acquire('submit', at(0)))).toBe(2000);
    const first = await budget.acquire('submit', at(0));
    const second = await budget.acquire('submit', at(0));
    expect(first).toMatchObject({ kind: 'deferred', ticket: 1, place: 1 });
    expect(second).toMatchObject({ kind: 'deferred', ticket: 2, place: 2 });
    // The first looks again when the queue is back within the reserve, the second one slot later.
    expect(first.kind === 'deferred' && first.retryAt.getTime() - T0).toBe(1000);
    expect(second.kind === 'deferred' && second.retryAt.getTime() - T0).toBe(2000);

    // A poll of a paid job is never refused, even with submits waiting: it gets the next slot.
    expect(slotOf(await budget.acquire('status', at(0)))).toBe(3000);

    // The first waiting submit comes back with its ticket once the queue allows it, and is served.
    expect(slotOf(await budget.acquire('submit', at(2000), 1))).toBe(4000);
    const again = await budget.acquire('submit', at(2000), 2);
    expect(again).toMatchObject({ kind: 'deferred', ticket: 2, place: 1 });
  });

  it('never gives one slot to two callers, with 60 concurrent acquirers of both kinds', async () => {
    const { budget } = newBudget();
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => budget.acquire(i % 3 === 0 ? 'submit' : 'status', at(0))),
    );
    const granted = decisions.filter((d) => d.kind === 'granted').map(slotOf);
    const deferred = decisions.filter((d) => d.kind === 'deferred');
    // Every status call got a slot; all slots distinct and exactly one interval apart from 0.
    expect(granted.length).toBeGreaterThanOrEqual(40);
    expect([...granted].sort((a, b) => a - b)).toEqual(granted.map((_, i) => i * 1000));
    // Deferred submits hold distinct tickets, so distinct places and wake-up times.
    const tickets = deferred.map((d) => (d.kind === 'deferred' ? d.ticket : 0));
    expect(new Set(tickets).size).toBe(tickets.length);
    expect(granted.length + deferred.length).toBe(60);
  });

  it('spaces slots by the rate in job time: at time scale 60, 10 RPM is one slot per 100 real ms', async () => {
    const { budget } = newBudget({
      requestsPerMinute: 10,
      timeScale: 60,
      submitReserve: 2,
      latencyMarginMs: 0,
    });
    const slots = [];
    for (let i = 0; i < 3; i += 1) slots.push(slotOf(await budget.acquire('status', at(0))));
    expect(slots).toEqual([0, 100, 200]);
  });

  it('adds the latency margin to each minute, so requests bunched by latency never overfill a minute', async () => {
    const { budget } = newBudget({ requestsPerMinute: 10, timeScale: 60, submitReserve: 2 });
    const slots = [];
    for (let i = 0; i < 3; i += 1) slots.push(slotOf(await budget.acquire('status', at(0))));
    // (1000 ms of job minute at scale 60 + 100 ms margin) / 10 requests.
    expect(slots).toEqual([0, 110, 220]);
  });
});
