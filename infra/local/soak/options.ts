// The command line of `npm run soak`, checked into SoakOptions.
import { parseArgs } from 'node:util';
import { parseOrUsageError, UsageError } from '#local/cli';
import type { SoakOptions } from '#local/soak/run';

export const USAGE = `Usage: npm run soak -- [options]

  --jobs N             jobs in all: 2 % image uploads, 5 % lines of one batch, the rest through the API (default 500)
  --fault-rate R       share of Segmind requests that meet a fault, 0..1 (default 0.25)
  --seed N             seeds the emulator's latencies, its faults and the soak's cancels (default 1)
  --time-scale F       emulated seconds per real second (default 20; keep the event-loop delay the table
                       prints small next to it, or deadlines break only because the machine fell behind)
  --rate-limit N       the emulator's requests per minute (default 50)
  --jobs-per-minute N  new jobs per emulated minute (default: the rate limit / 8: a job takes about 5 requests, faults more)
  --log-level L        the handlers' log level while scanning for secrets (default INFO)
  -h, --help

Prints one table and exits 1 if any invariant is broken. Handler logs go to soak.log in the run's data
directory (printed), not to the terminal.`;

const positive = (name: string, raw: string | undefined, fallback: number, integer = false): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${name}: must be a positive ${integer ? 'whole ' : ''}number, got ${raw}`);
  }
  return value;
};

export const parseSoakCommand = (argv: string[]): SoakOptions | 'help' => {
  const { values } = parseOrUsageError(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        jobs: { type: 'string' },
        'fault-rate': { type: 'string' },
        seed: { type: 'string' },
        'time-scale': { type: 'string' },
        'rate-limit': { type: 'string' },
        'jobs-per-minute': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return 'help';
  const faultRate = values['fault-rate'] === undefined ? 0.25 : Number(values['fault-rate']);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new UsageError('fault-rate: must be from 0 to 1');
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError('seed: must be an integer');
  const rateLimitPerMinute = positive('rate-limit', values['rate-limit'], 50, true);
  return {
    jobs: positive('jobs', values.jobs, 500, true),
    faultRate,
    seed,
    timeScale: positive('time-scale', values['time-scale'], 20),
    rateLimitPerMinute,
    jobsPerMinute: positive('jobs-per-minute', values['jobs-per-minute'], rateLimitPerMinute / 8),
    logLevel: values['log-level'] ?? 'INFO',
  };
};
