// Counts of every request the emulator served, so tests can prove "exactly one submit" or "n polls".
import type { Counters, Endpoint } from '#emulator/control';

export type CountedEndpoint = Endpoint | 'control' | 'other';

const NO_KEY = '(none)';

const emptyByEndpoint = (): Counters['byEndpoint'] => ({
  submit: 0,
  status: 0,
  result: 0,
  download: 0,
  credits: 0,
  control: 0,
  other: 0,
});

export class CounterBook {
  private byEndpoint = emptyByEndpoint();
  private byKey: Counters['byKey'] = {};
  private byStatusCode: Record<string, number> = {};
  private connectionsReset = 0;

  request(endpoint: CountedEndpoint, apiKey: string | undefined): void {
    this.byEndpoint[endpoint] += 1;
    if (endpoint === 'control') return;
    const key = apiKey === undefined || apiKey === '' ? NO_KEY : apiKey;
    const perKey = this.byKey[key] ?? {};
    perKey[endpoint] = (perKey[endpoint] ?? 0) + 1;
    this.byKey[key] = perKey;
  }

  status(code: number): void {
    this.byStatusCode[String(code)] = (this.byStatusCode[String(code)] ?? 0) + 1;
  }

  reset(): void {
    this.byEndpoint = emptyByEndpoint();
    this.byKey = {};
    this.byStatusCode = {};
    this.connectionsReset = 0;
  }

  connectionReset(): void {
    this.connectionsReset += 1;
  }

  /** The counts this book keeps; the core adds the per-request figures. */
  snapshot(
    jobsCreated: number,
    maxConcurrentJobs: number,
  ): Omit<Counters, 'faultsByKind' | 'createdWithoutAnswer' | 'billed' | 'resultsServed' | 'fullDownloads'> {
    return structuredClone({
      byEndpoint: this.byEndpoint,
      byKey: this.byKey,
      jobsCreated,
      byStatusCode: this.byStatusCode,
      maxConcurrentJobs,
      connectionsReset: this.connectionsReset,
    });
  }
}
