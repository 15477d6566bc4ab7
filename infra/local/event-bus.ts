// The local stand-in for EventBridge: PutEvents entries become events in EventBridge's envelope, kept in
// memory and appended to a JSON-lines file so a user can `tail -f` what the workflow published.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  /** A JSON string, or (in a Step Functions task) a JSON object that the service serialises. */
  Detail?: unknown;
  EventBusName?: string;
  Resources?: string[];
  Time?: string;
}

/** An event as EventBridge delivers it to targets. */
export interface LocalEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  'event-bus-name': string;
}

export interface PutEventsResponse {
  Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
  FailedEntryCount: number;
}

export interface LocalEventBusOptions {
  account: string;
  region: string;
  /** Appends each event as one JSON line; none when omitted. */
  file?: string;
}

export class LocalEventBus {
  readonly #events: LocalEvent[] = [];
  readonly #options: LocalEventBusOptions;
  readonly #listeners = new Set<(event: LocalEvent) => void>();

  constructor(options: LocalEventBusOptions) {
    this.#options = options;
    if (options.file) mkdirSync(dirname(options.file), { recursive: true });
  }

  /** Every event published since start, oldest first. */
  events(): readonly LocalEvent[] {
    return [...this.#events];
  }

  subscribe(listener: (event: LocalEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** PutEvents: entries missing a source, detail type or detail fail individually, as on AWS. */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResponse {
    const results: PutEventsResponse['Entries'] = [];
    for (const entry of entries) {
      const detail = parseDetail(entry.Detail);
      if (!entry.Source || !entry.DetailType || detail === undefined) {
        results.push({
          ErrorCode: 'MalformedDetail',
          ErrorMessage: 'Source, DetailType and a JSON object Detail are required',
        });
        continue;
      }
      const event: LocalEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: this.#options.account,
        time: entry.Time ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.#options.region,
        resources: entry.Resources ?? [],
        detail,
        'event-bus-name': entry.EventBusName ?? 'default',
      };
      this.#events.push(event);
      if (this.#options.file) appendFileSync(this.#options.file, `${JSON.stringify(event)}\n`);
      for (const listener of this.#listeners) listener(event);
      results.push({ EventId: event.id });
    }
    return { Entries: results, FailedEntryCount: results.filter((r) => r.ErrorCode).length };
  }
}

const parseDetail = (detail: unknown): unknown => {
  if (typeof detail !== 'string') return typeof detail === 'object' && detail !== null ? detail : undefined;
  try {
    const parsed: unknown = JSON.parse(detail);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
};
