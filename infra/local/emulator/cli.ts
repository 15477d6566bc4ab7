// `npm run emulator -- [--port N] [--api-key KEY]... [--time-scale F] [--seed S]`: runs the Segmind
// emulator in the foreground until Ctrl-C.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CONTROL_PREFIX, type EmulatorOptions } from '#emulator/control';
import { startEmulator } from '#emulator/index';
import { parseOrUsageError, UsageError } from '#local/cli';

const USAGE = `Usage: npm run emulator -- [options]

  --port N            port on 127.0.0.1 (default: a free one)
  --api-key KEY       accepted x-api-key; repeat for several (default: one generated SG_ key)
  --time-scale F      emulated seconds per real second (default 1 = Segmind's pace)
  --seed S            seed for latencies and failures (default: random)
  --credits N         starting credits per key (default 100)
  --rate-limit N      requests per minute per key (default 50)
  --cache-dir DIR     where generated MP4s are cached (default .local/emulator-cache)
  -h, --help          show this help`;

const number = (flag: string, raw: string | undefined, check: (n: number) => boolean): number | undefined => {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) {
    throw new UsageError(`--${flag} got "${raw}", which is not a valid value`);
  }
  return value;
};

export const parseCli = (argv: string[]): EmulatorOptions | 'help' => {
  const { values } = parseOrUsageError(() => parse(argv));
  if (values.help) return 'help';
  const options: EmulatorOptions = {};
  const port = number('port', values.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const timeScale = number('time-scale', values['time-scale'], (n) => n > 0);
  const seed = number('seed', values.seed, (n) => Number.isInteger(n));
  const credits = number('credits', values.credits, (n) => n >= 0);
  const rateLimit = number('rate-limit', values['rate-limit'], (n) => n > 0);
  if (port !== undefined) options.port = port;
  if (timeScale !== undefined) options.timeScale = timeScale;
  if (seed !== undefined) options.seed = seed;
  if (credits !== undefined) options.credits = credits;
  if (rateLimit !== undefined) options.rateLimitPerMinute = rateLimit;
  if (values['cache-dir'] !== undefined) options.cacheDir = values['cache-dir'];
  const keys = values['api-key'] ?? [];
  if (keys.some((key) => key.trim() === '')) throw new UsageError('--api-key needs a non-empty value');
  if (keys.length > 0) options.apiKeys = keys;
  return options;
};

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      'time-scale': { type: 'string' },
      seed: { type: 'string' },
      credits: { type: 'string' },
      'rate-limit': { type: 'string' },
      'cache-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });

const main = async (): Promise<void> => {
  let options: EmulatorOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`emulator: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const emulator = await startEmulator(options);
  const key = emulator.apiKeys[0] ?? '';
  const config = emulator.control.config();
  console.log(`Segmind emulator listening on ${emulator.url}
  API key(s):  ${emulator.apiKeys.join(', ')}
  time scale:  ${config.timeScale} (emulated seconds per real second)
  rate limit:  ${config.rateLimitPerMinute} requests/minute per key
  control API: ${emulator.url}${CONTROL_PREFIX}/counters (no key needed)

Try it:
  curl -s -X POST ${emulator.url}/v2/ltx-2-fast \\
    -H 'x-api-key: ${key}' -H 'Content-Type: application/json' \\
    -d '{"prompt": "a red fox running through snow", "duration": 6, "resolution": "1080p"}'
  curl -s -H 'x-api-key: ${key}' ${emulator.url}/v2/requests/<request_id>/status

Use it from the project: SEGMIND_BASE_URL=${emulator.url} SEGMIND_API_KEY=${key}
Press Ctrl-C to stop.`);

  const shutdown = (signal: string): void => {
    console.log(`\n${signal}: stopping the emulator`);
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
