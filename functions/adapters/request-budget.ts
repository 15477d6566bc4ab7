// The request budget (#domain/request-budget) in DynamoDB: one item per Segmind API key, keyed by a hash of
// the key (never the key itself), changed only by single-item conditional UpdateItems — no transactions,
// which the local DynamoDB lacks, and no read-modify-write race: every slot is taken by one atomic
// `nextSlotMs = nextSlotMs + interval` whose condition says the slot is still the caller's to take.
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#commons/aws-clients';
import { requestBudgetConfig } from '#commons/config';
import { RequestBudgetContentionError } from '#domain/errors';
import {
  type BudgetDecision,
  type BudgetedRequest,
  type BudgetSettings,
  type BudgetState,
  DEFAULT_SUBMIT_RESERVE,
  deferral,
  type RequestBudget,
  slotIntervalMs,
} from '#domain/request-budget';

/** The item's key: which budget, e.g. `segmind#<sha256 of the API key, 32 hex>`. */
export const budgetIdOf = (apiKey: string): string =>
  `segmind#${createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`;

export interface DynamoRequestBudgetOptions {
  client?: DynamoDBDocumentClient;
  tableName: string;
  /** The budget's id (budgetIdOf the current key): read per call, so a rotated key gets its own budget. */
  budgetId: () => Promise<string>;
  settings: BudgetSettings;
}

/** Rounds of "take a queued slot, else an idle one" before giving up; each round is lost only to a winner. */
const MAX_ROUNDS = 8;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

const numberOr = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

const stateOf = (item: Record<string, unknown> | undefined): BudgetState => ({
  nextSlotMs: numberOr(item?.nextSlotMs, 0),
  ticketsIssued: numberOr(item?.ticketsIssued, 0),
  lastServedTicket: numberOr(item?.lastServedTicket, 0),
});

export class DynamoRequestBudget implements RequestBudget {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #budgetId: () => Promise<string>;
  readonly #settings: BudgetSettings;

  constructor(options: DynamoRequestBudgetOptions) {
    this.#client = options.client ?? dynamoDocumentClient();
    this.#tableName = options.tableName;
    this.#budgetId = options.budgetId;
    this.#settings = options.settings;
  }

  async acquire(request: BudgetedRequest, now: Date, ticket?: number): Promise<BudgetDecision> {
    const budgetId = await this.#budgetId();
    const nowMs = now.getTime();
    const interval = slotIntervalMs(this.#settings);
    // Paid work takes any slot, however far out; a submit only one within the reserve.
    const horizonMs =
      request === 'submit' ? nowMs + this.#settings.submitReserve * interval : Number.POSITIVE_INFINITY;
    let held = ticket;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const queued = await this.#takeQueuedSlot(budgetId, nowMs, horizonMs, interval, held);
      if (queued !== undefined) return { kind: 'granted', slotAt: new Date(queued) };
      if (await this.#takeIdleSlot(budgetId, nowMs, interval, held)) {
        return { kind: 'granted', slotAt: new Date(nowMs) };
      }
      if (request !== 'submit') continue; // the budget went from idle to queued in between: take a queued slot
      const { state, ticket: own } = await this.#ticketed(budgetId, held);
      held = own;
      if (state.nextSlotMs > horizonMs) return deferral(state, own, nowMs, this.#settings);
      // The queue shrank meanwhile: try again, keeping the ticket.
    }
    throw new RequestBudgetContentionError(
      `Could not take a request slot in ${MAX_ROUNDS} rounds: too many callers at once`,
    );
  }

  /** The next queued slot (epoch ms), if one is queued and within the horizon; undefined otherwise. */
  async #takeQueuedSlot(
    budgetId: string,
    nowMs: number,
    horizonMs: number,
    interval: number,
    ticket: number | undefined,
  ): Promise<number | undefined> {
    const bounded = Number.isFinite(horizonMs);
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { budgetId },
          UpdateExpression: `SET nextSlotMs = nextSlotMs + :interval${ticket === undefined ? '' : ', lastServedTicket = :ticket'}`,
          ConditionExpression: `nextSlotMs > :now${bounded ? ' AND nextSlotMs <= :horizon' : ''}`,
          ExpressionAttributeValues: {
            ':interval': interval,
            ':now': nowMs,
            ...(bounded ? { ':horizon': horizonMs } : {}),
            ...(ticket === undefined ? {} : { ':ticket': ticket }),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return numberOr(Attributes?.nextSlotMs, nowMs + interval) - interval;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Takes the slot at `nowMs` when nothing is queued (or the budget is new); false when something is. */
  async #takeIdleSlot(
    budgetId: string,
    nowMs: number,
    interval: number,
    ticket: number | undefined,
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { budgetId },
          UpdateExpression: `SET nextSlotMs = :next, requestsPerMinute = :rpm${ticket === undefined ? '' : ', lastServedTicket = :ticket'}`,
          ConditionExpression: 'attribute_not_exists(nextSlotMs) OR nextSlotMs <= :now',
          ExpressionAttributeValues: {
            ':next': nowMs + interval,
            ':now': nowMs,
            ':rpm': this.#settings.requestsPerMinute,
            ...(ticket === undefined ? {} : { ':ticket': ticket }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The budget as it stands, with a new ticket for a submit that has none yet. */
  async #ticketed(
    budgetId: string,
    ticket: number | undefined,
  ): Promise<{ state: BudgetState; ticket: number }> {
    if (ticket !== undefined) {
      const { Item } = await this.#client.send(
        new GetCommand({ TableName: this.#tableName, Key: { budgetId }, ConsistentRead: true }),
      );
      return { state: stateOf(Item), ticket };
    }
    const { Attributes } = await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: { budgetId },
        UpdateExpression: 'ADD ticketsIssued :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const state = stateOf(Attributes);
    return { state, ticket: state.ticketsIssued };
  }
}

/**
 * The budget the Lambdas share: REQUEST_BUDGET_TABLE_NAME, sized by SEGMIND_REQUESTS_PER_MINUTE (in job
 * time, hence the clock's time scale), one item per API key as `apiKey` currently reads it.
 */
export const createRequestBudget = (options: {
  apiKey: () => Promise<string>;
  timeScale: number;
  client?: DynamoDBDocumentClient;
}): DynamoRequestBudget => {
  const config = requestBudgetConfig();
  return new DynamoRequestBudget({
    ...(options.client === undefined ? {} : { client: options.client }),
    tableName: config.tableName,
    budgetId: async () => budgetIdOf(await options.apiKey()),
    settings: {
      requestsPerMinute: config.requestsPerMinute,
      timeScale: options.timeScale,
      submitReserve: DEFAULT_SUBMIT_RESERVE,
    },
  });
};
