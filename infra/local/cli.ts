// What the local command lines (`npm run generate`, `batch`, `dev`) share: usage errors and exit codes,
// the emulator's clock options (--time-scale, --seed), where the local data lives, and a console that
// prints no presigned URL or API key.
import { join } from 'node:path';
import { format } from 'node:util';
import { ENV } from '#commons/env';
import { redactText } from '#commons/redact';
import { PROJECT_ROOT } from '#infra/constructs/handlers';

/** A wrong command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Runs `parse` (node:util parseArgs), turning what it throws (an unknown option, a missing value) into a UsageError. */
export const parseOrUsageError = <T>(parse: () => T): T => {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
};

/** The parseArgs options every local command takes for the emulator's clock. */
export const CLOCK_OPTIONS = {
  'time-scale': { type: 'string' },
  seed: { type: 'string' },
} as const;

export interface ClockOptions {
  timeScale: number;
  seed?: number;
}

/** Checks --time-scale (default 1) and --seed; `example` is the time scale the usage error suggests. */
export const parseClockOptions = (
  values: { 'time-scale'?: string | undefined; seed?: string | undefined },
  example: number,
): ClockOptions => {
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    throw new UsageError(`time-scale: must be a positive number, e.g. ${example}`);
  }
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new UsageError('seed: must be an integer');
  return { timeScale, ...(seed === undefined ? {} : { seed }) };
};

/**
 * Whether the run goes to Segmind (SEGMIND_API_KEY is set) rather than the emulator. Only the emulator's
 * clock can run faster, so a time scale other than 1 with Segmind is a usage error.
 */
export const usesSegmind = (timeScale: number): boolean => {
  const usingSegmind = Boolean(process.env[ENV.segmindApiKey]?.trim());
  if (usingSegmind && timeScale !== 1) {
    throw new UsageError('time-scale: only the emulator can run faster; unset SEGMIND_API_KEY to use it');
  }
  return usingSegmind;
};

/** The console line saying who makes the videos. */
export const segmindBanner = (usingSegmind: boolean, timeScale: number): string =>
  usingSegmind
    ? `Segmind: ${process.env[ENV.segmindBaseUrl] || 'https://api.segmind.com'} (SEGMIND_API_KEY is set; billed)`
    : `Segmind: the local emulator (test-pattern videos), time scale ${timeScale}`;

/** startLocalStack's options for a command: its clock, and the data kept across runs in .local/. */
export const localStackOptions = ({ timeScale, seed }: ClockOptions) => ({
  timeScale,
  dataDir: process.env.LTX_LOCAL_DATA_DIR?.trim() || join(PROJECT_ROOT, '.local'),
  ...(seed === undefined ? {} : { seed }),
});

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/**
 * Makes every line the process prints through the global console pass the log redaction the Lambdas use
 * (redactText): the local stack's own lines — job records, errors, upload and batch outcomes, stacks —
 * like the handlers' logs, carry no URL query string (presigned URLs) and no Segmind key. Returns the undo.
 */
export const redactConsole = (target: Console = console): (() => void) => {
  const originals = CONSOLE_METHODS.map((method) => [method, target[method]] as const);
  for (const [method, print] of originals) {
    target[method] = (...args: unknown[]) => print.call(target, redactText(format(...args)));
  }
  return () => {
    for (const [method, print] of originals) target[method] = print;
  };
};

/**
 * Runs a command's main with the process's arguments, its console redacted (redactConsole), and exits
 * with its code: 2 with the usage for a UsageError (after `usagePrefix`), 1 with the stack for anything else.
 */
export const runCommand = (
  main: (argv: string[]) => Promise<number>,
  usage: string,
  usagePrefix = '',
): void => {
  redactConsole();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`${usagePrefix}${error.message}\n\n${usage}`);
        process.exit(2);
      }
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
};
