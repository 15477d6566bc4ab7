// One request budget per Segmind API key, shared by every request (submit, status, result) of every job
// from every entry point. Segmind's limit counts requests per minute per key, so the budget hands out
// request slots spaced 60 / RPM seconds apart (a GCRA "theoretical arrival time", kept in one item).
// Paid work (status and result of a job Segmind already bills) always gets the next free slot, even one
// in the future: a reservation the job waits for in the state machine, then uses. A submit takes a slot
// only while few are queued ahead (the reserve), so polls of paid jobs go before new submits; otherwise it
// is deferred with a ticket whose place in line sets when it looks again. Nothing here sleeps or fails
// for lack of budget: the caller waits in the state machine until the time returned.

/** What a request is for: a submit starts a new paid job; status and result serve a job already paid for. */
export type BudgetedRequest = 'submit' | 'status' | 'result';

export interface BudgetSettings {
  /** Requests per minute of job time (Segmind's plan: 5 or 50). */
  requestsPerMinute: number;
  /** Job seconds per real second (1 on AWS; the local stack runs faster). */
  timeScale: number;
  /** Slots a submit may find queued ahead of it and still take one; beyond that it yields to polls. */
  submitReserve: number;
  /**
   * Real milliseconds added to each minute's worth of slots: a request reaches Segmind a little after
   * its slot (Lambda start, DNS, TLS), and Segmind counts a minute from whichever request opened it, so
   * without this margin two requests bunched by latency could make one minute hold a request too many.
   * @default LATENCY_MARGIN_MS
   */
  latencyMarginMs?: number;
}

/** A request's spread between slot and arrival at Segmind, from a few ms locally to ~100 ms on AWS. */
export const LATENCY_MARGIN_MS = 100;

/** Segmind Pro allows 50 requests per minute per key. */
export const DEFAULT_REQUESTS_PER_MINUTE = 50;
/** Two slots: enough to keep a submit pipeline full, few enough that a poll never waits long behind submits. */
export const DEFAULT_SUBMIT_RESERVE = 2;

/** Real milliseconds between two slots: a job-time minute, plus the latency margin, per allowed request. */
export const slotIntervalMs = (settings: BudgetSettings): number =>
  (60_000 / settings.timeScale + (settings.latencyMarginMs ?? LATENCY_MARGIN_MS)) /
  settings.requestsPerMinute;

export type BudgetDecision =
  /** The request may go at `slotAt` (now, or a reservation: wait until then, then send without asking again). */
  | { kind: 'granted'; slotAt: Date }
  /** A submit that must yield: look again at `retryAt`, keeping `ticket`; `place` in line among waiting submits. */
  | { kind: 'deferred'; retryAt: Date; ticket: number; place: number };

export interface RequestBudget {
  /**
   * A slot for one request. `ticket` is the deferred submit's ticket from an earlier decision, so that
   * it keeps its place in line.
   */
  acquire(request: BudgetedRequest, now: Date, ticket?: number): Promise<BudgetDecision>;
}

/** The budget's state as stored: the next free slot and the submit line (tickets handed out, last served). */
export interface BudgetState {
  /** Epoch ms of the next free slot (GCRA's theoretical arrival time). */
  nextSlotMs: number;
  /** Tickets handed to deferred submits so far. */
  ticketsIssued: number;
  /** The ticket of the last deferred submit that got a slot. */
  lastServedTicket: number;
}

/**
 * Where a deferred submit stands and when it should look again: when the queue ahead of the submits will
 * have shrunk to the reserve, plus one slot for every waiting submit ahead of it (so that a line of
 * waiting submits wakes one at a time, not all at once).
 */
export const deferral = (
  state: BudgetState,
  ticket: number,
  nowMs: number,
  settings: BudgetSettings,
): Extract<BudgetDecision, { kind: 'deferred' }> => {
  const interval = slotIntervalMs(settings);
  const place = Math.max(1, ticket - state.lastServedTicket);
  const reserveOpensMs = state.nextSlotMs - settings.submitReserve * interval;
  const retryMs = Math.max(nowMs, reserveOpensMs) + (place - 1) * interval;
  return { kind: 'deferred', retryAt: new Date(Math.ceil(retryMs)), ticket, place };
};

/**
 * When a Wait state should end to reach `at`. AWS truncates a TimestampPath to the whole second, which
 * could wake a job before its slot: at time scale 1 (AWS) round up; locally keep milliseconds, which the
 * local interpreter honours and a time-scaled run needs.
 */
export const waitUntil = (at: Date, timeScale: number): string =>
  (timeScale === 1 ? new Date(Math.ceil(at.getTime() / 1000) * 1000) : at).toISOString();

/** What the job record and the API show while a submit waits for the budget. */
export const WAITING_FOR_RATE_BUDGET = 'waiting for rate budget';
