// Requests per minute per API key, in fixed windows of emulated time. A window opens with a key's first
// request and closes 60 emulated seconds later; Segmind announces that instant in x-rate-limit-reset-at-utc.

const WINDOW_MS = 60_000;

export type RateDecision =
  | { allowed: true; remaining: number; resetAt: number }
  | { allowed: false; remaining: 0; resetAt: number };

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /** Counts one request for `key` at emulated time `now` unless the window is full. */
  take(key: string, now: number, limitPerMinute: number): RateDecision {
    const window = this.current(key, now);
    if (window.count >= limitPerMinute) {
      return { allowed: false, remaining: 0, resetAt: window.start + WINDOW_MS };
    }
    window.count += 1;
    return { allowed: true, remaining: limitPerMinute - window.count, resetAt: window.start + WINDOW_MS };
  }

  /** When the key's current window ends (or would end, if one opened now). */
  resetAt(key: string, now: number): number {
    const window = this.windows.get(key);
    return window !== undefined && now < window.start + WINDOW_MS
      ? window.start + WINDOW_MS
      : now + WINDOW_MS;
  }

  clear(): void {
    this.windows.clear();
  }

  private current(key: string, now: number): { start: number; count: number } {
    const existing = this.windows.get(key);
    if (existing !== undefined && now < existing.start + WINDOW_MS) return existing;
    const fresh = { start: now, count: 0 };
    this.windows.set(key, fresh);
    return fresh;
  }
}
