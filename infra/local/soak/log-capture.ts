// Watches every line the process writes (stdout and stderr: handler logs, warnings) for secrets, and keeps
// them in a file instead of the terminal, so the soak's table is the only thing a user reads.
import { appendFileSync } from 'node:fs';
import type { LogLeak } from '#local/soak/invariants';

/** What a presigned S3 URL carries (SigV4 query parameters), in any case as logged. */
const PRESIGNED = /X-Amz-(Signature|Credential)/i;

export interface LogCapture {
  lines(): number;
  leaks(): LogLeak[];
  /** Writes a line to the real stderr, past the capture. */
  terminal(line: string): void;
  /** Restores the streams; later lines go to the terminal again. */
  stop(): void;
}

export const captureLogs = (options: { file: string; secrets: () => readonly string[] }): LogCapture => {
  const leaks: LogLeak[] = [];
  let lines = 0;
  let partial = '';
  const scan = (text: string): void => {
    const all = (partial + text).split('\n');
    partial = all.pop() ?? '';
    for (const line of all) {
      lines += 1;
      if (PRESIGNED.test(line)) leaks.push({ kind: 'presigned-url', line });
      else if (options.secrets().some((secret) => secret !== '' && line.includes(secret)))
        leaks.push({ kind: 'api-key', line });
    }
  };
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const intercept = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    scan(text);
    appendFileSync(options.file, text);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  };
  process.stdout.write = intercept as typeof process.stdout.write;
  process.stderr.write = intercept as typeof process.stderr.write;
  return {
    lines: () => lines,
    leaks: () => [...leaks],
    terminal: (line) => {
      originals.err.call(process.stderr, `${line}\n`);
    },
    stop: () => {
      if (partial !== '') scan('\n');
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
};
