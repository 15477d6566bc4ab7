// Injected faults: each applies to the next `count` matching requests, first injected first served.
// A fault only matches where it makes sense (a missing video object only on a COMPLETED result), so a
// test can queue it early and be sure it is not spent on a request it could not affect.
import type { Endpoint, Fault } from '#emulator/control';

export interface FaultContext {
  endpoint: Endpoint;
  /** The request id the call is about (status, result, download); none for submit and credits. */
  requestId?: string;
  /** For a result call: whether the job is COMPLETED right now. */
  completed?: boolean;
}

/** Whether a fault of this kind can shape this request (injected and random faults alike). */
export const appliesTo = (fault: Pick<Fault, 'kind'>, context: FaultContext): boolean => {
  switch (fault.kind) {
    case 'missing-request-id':
    case 'error-after-accept':
      return context.endpoint === 'submit';
    case 'missing-video-object':
      return context.endpoint === 'result' && context.completed === true;
    case 'unknown-status':
      return context.endpoint === 'status' || context.endpoint === 'result';
    case 'extra-fields':
      return context.endpoint !== 'download';
    default:
      return true;
  }
};

export class FaultBook {
  private entries: Array<{ fault: Fault; remaining: number }> = [];

  add(faults: Fault[]): void {
    for (const fault of faults) this.entries.push({ fault, remaining: fault.count ?? 1 });
  }

  clear(): void {
    this.entries = [];
  }

  /** The fault to apply to this request, if any; spends one of its uses. */
  take(context: FaultContext): Fault | undefined {
    const entry = this.entries.find(
      ({ fault }) =>
        fault.endpoint === context.endpoint &&
        (fault.requestId === undefined || fault.requestId === context.requestId) &&
        appliesTo(fault, context),
    );
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.entries = this.entries.filter((e) => e !== entry);
    return entry.fault;
  }

  /** Faults still armed, with their remaining uses. */
  list(): Array<Fault & { remaining: number }> {
    return this.entries.map(({ fault, remaining }) => ({ ...fault, remaining }));
  }
}
