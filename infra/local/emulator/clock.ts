// The emulator's clock. Jobs live in emulated time, which runs `timeScale` times faster than real time,
// so a 47 s job can finish in half a second of a test. Anything shown to a client as an absolute instant
// (a rate-limit reset, a submission time) is converted back to real time, because that is the clock the
// client waits on.

export class EmulatedClock {
  private realAnchor: number;
  private emulatedAnchor: number;
  private scale: number;

  constructor(
    timeScale: number,
    private readonly realNow: () => number = Date.now,
  ) {
    this.realAnchor = realNow();
    this.emulatedAnchor = this.realAnchor;
    this.scale = timeScale;
  }

  /** Emulated milliseconds since the epoch (starts equal to real time). */
  now(): number {
    return this.emulatedAnchor + (this.realNow() - this.realAnchor) * this.scale;
  }

  get timeScale(): number {
    return this.scale;
  }

  /** Changes the pace from now on; emulated time already passed stays passed. */
  setTimeScale(timeScale: number): void {
    this.reanchor();
    this.scale = timeScale;
  }

  /** Jumps emulated time forward (tests: expire a job without waiting). */
  advance(emulatedSeconds: number): void {
    this.reanchor();
    this.emulatedAnchor += emulatedSeconds * 1000;
  }

  /** The real instant at which the emulated instant `emulatedMs` will be (or was) reached. */
  toReal(emulatedMs: number): Date {
    return new Date(this.realNow() + (emulatedMs - this.now()) / this.scale);
  }

  private reanchor(): void {
    const emulated = this.now();
    this.realAnchor = this.realNow();
    this.emulatedAnchor = emulated;
  }
}
