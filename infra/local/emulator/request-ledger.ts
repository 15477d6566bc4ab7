// Per Segmind request id, what the emulator did for it (answered the submit, served the result, sent the
// file whole), every submit POST in order, and the faults applied: what a soak checks delivery against.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Endpoint, SubmitAttempt } from '#emulator/control';

export interface RequestTally {
  answered: boolean;
  resultsServed: number;
  downloads: number;
  fullDownloads: number;
  bytesDownloaded: number;
  sha256: string | null;
  faults: Record<string, number>;
}

const emptyTally = (): RequestTally => ({
  answered: false,
  resultsServed: 0,
  downloads: 0,
  fullDownloads: 0,
  bytesDownloaded: 0,
  sha256: null,
  faults: {},
});

const hashFile = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

export class RequestLedger {
  private tallies = new Map<string, RequestTally>();
  private attempts: SubmitAttempt[] = [];
  private faultCounts: Partial<Record<Endpoint, Record<string, number>>> = {};
  /** sha256 per output file path: the cached files never change under a name. */
  private readonly hashes = new Map<string, Promise<string>>();

  tally(requestId: string): RequestTally {
    let tally = this.tallies.get(requestId);
    if (tally === undefined) {
      tally = emptyTally();
      this.tallies.set(requestId, tally);
    }
    return tally;
  }

  peek(requestId: string): RequestTally | undefined {
    return this.tallies.get(requestId);
  }

  /** A new submit POST; the caller fills it in as the request goes. */
  submitAttempt(fault: string | undefined): SubmitAttempt {
    const attempt: SubmitAttempt = {
      prompt: null,
      requestId: null,
      fault: fault ?? null,
      answered: false,
      httpStatus: null,
    };
    this.attempts.push(attempt);
    return attempt;
  }

  fault(endpoint: Endpoint, kind: string, requestId: string | undefined): void {
    const byKind = this.faultCounts[endpoint] ?? {};
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    this.faultCounts[endpoint] = byKind;
    if (requestId !== undefined) this.tallyFault(requestId, kind);
  }

  /** A fault counted already, now known to concern this request id (a submit that created the job). */
  tallyFault(requestId: string, kind: string): void {
    const tally = this.tally(requestId);
    tally.faults[kind] = (tally.faults[kind] ?? 0) + 1;
  }

  /** Hashes the file now (once per file), so its sha256 is known by the time a download ends. */
  downloadStarted(requestId: string, path: string): void {
    this.tally(requestId).downloads += 1;
    if (!this.hashes.has(path)) this.hashes.set(path, hashFile(path));
  }

  async downloadFinished(requestId: string, file: { path: string; size: number }): Promise<void> {
    const tally = this.tally(requestId);
    tally.fullDownloads += 1;
    tally.bytesDownloaded += file.size;
    tally.sha256 = (await this.hashes.get(file.path)) ?? (await hashFile(file.path));
  }

  submits(): SubmitAttempt[] {
    return structuredClone(this.attempts);
  }

  faultsByKind(): Partial<Record<Endpoint, Record<string, number>>> {
    return structuredClone(this.faultCounts);
  }

  totals(): { resultsServed: number; fullDownloads: number } {
    let resultsServed = 0;
    let fullDownloads = 0;
    for (const tally of this.tallies.values()) {
      resultsServed += tally.resultsServed;
      fullDownloads += tally.fullDownloads;
    }
    return { resultsServed, fullDownloads };
  }

  reset(): void {
    this.tallies = new Map();
    this.attempts = [];
    this.faultCounts = {};
  }
}
