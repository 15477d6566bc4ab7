// The seeded random fault mode: each Segmind request draws, with a set probability, one fault from the
// kinds configured for its endpoint. Beside the injected faults (faults.ts), which are used first.
import type { Endpoint, Fault, FaultKindSpec, RandomFaults } from '#emulator/control';
import { parseRandomFaults } from '#emulator/control-schemas';
import { appliesTo, type FaultContext } from '#emulator/faults';
import { mulberry32, type Random } from '#emulator/random';

/**
 * A mix of what upstreams really do, per endpoint. Submit draws only faults whose outcome the client can
 * classify from the emulator's counters: certainly not created (429, a Segmind JSON 500) or created
 * without an answer (a reset, or a proxy's 502 page, after the job was accepted).
 */
export const DEFAULT_RANDOM_FAULT_KINDS: Readonly<Record<Endpoint, readonly FaultKindSpec[]>> = Object.freeze(
  {
    submit: [
      { kind: 'rate-limit' },
      { kind: 'http-error', status: 500, body: 'json' },
      { kind: 'reset-after-accept' },
      { kind: 'error-after-accept', status: 502, body: 'html' },
    ],
    status: [
      { kind: 'rate-limit' },
      { kind: 'http-error', status: 500, body: 'json' },
      { kind: 'http-error', status: 502, body: 'html' },
      { kind: 'http-error', status: 503, body: 'html' },
      { kind: 'reset' },
    ],
    result: [
      { kind: 'rate-limit' },
      { kind: 'http-error', status: 500, body: 'json' },
      { kind: 'http-error', status: 502, body: 'html' },
      { kind: 'http-error', status: 504, body: 'empty' },
      { kind: 'reset' },
    ],
    download: [
      { kind: 'truncate' },
      { kind: 'corrupt' },
      { kind: 'reset' },
      { kind: 'http-error', status: 503, body: 'html' },
    ],
    credits: [],
  },
);

/** Only submits can be accepted or refused: a reset or error "after accept" means nothing elsewhere. */
const SUBMIT_ONLY = new Set<string>(['reset-before-accept', 'reset-after-accept', 'error-after-accept']);

export class RandomFaultBook {
  private settings: RandomFaults | null = null;
  private random: Random = mulberry32(0);

  constructor(private readonly defaultSeed: number) {}

  /** Validates and arms the mode (a fresh generator from its seed), or stops it with null. */
  set(input: RandomFaults | null): void {
    if (input === null) {
      this.settings = null;
      return;
    }
    this.settings = parseRandomFaults(input);
    this.random = mulberry32(this.settings.seed ?? this.defaultSeed);
  }

  get(): RandomFaults | null {
    return this.settings === null ? null : structuredClone(this.settings);
  }

  /**
   * Draws for one request: two uniforms whenever the endpoint is in play (whether, then which), so one
   * request's outcome does not shift the draws of the next.
   */
  draw(context: FaultContext): Fault | undefined {
    const settings = this.settings;
    if (settings === null) return undefined;
    const kinds = (settings.kinds ?? DEFAULT_RANDOM_FAULT_KINDS)[context.endpoint] ?? [];
    if (kinds.length === 0) return undefined;
    const rate = settings.rates?.[context.endpoint] ?? settings.rate;
    const [whether, which] = [this.random(), this.random()];
    if (whether >= rate) return undefined;
    const candidates = kinds.filter(
      (kind) => appliesTo(kind, context) && (context.endpoint === 'submit' || !SUBMIT_ONLY.has(kind.kind)),
    );
    const chosen = candidates[Math.floor(which * candidates.length)];
    return chosen === undefined ? undefined : ({ ...chosen, endpoint: context.endpoint } as Fault);
  }
}
