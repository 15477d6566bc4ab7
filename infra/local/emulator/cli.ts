// `npm run emulator -- [--port N] [--api-key KEY]... [--time-scale F] [--seed S] [--fault-rate R]`: runs the Segmind
// emulator in the foreground until Ctrl-C.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseHostList } from '#domain/url-safety';
import { CONTROL_PREFIX, type EmulatorOptions, type Endpoint, type RandomFaults } from '#emulator/control';
import { parseRandomFaults } from '#emulator/control-schemas';
import { startEmulator } from '#emulator/index';
import { DEFAULT_RANDOM_FAULT_KINDS } from '#emulator/random-faults';
import { parseOrUsageError, UsageError } from '#local/cli';

const USAGE = `Usage: npm run emulator -- [options]

  --port N            port on 127.0.0.1 (default: a free one)
  --api-key KEY       accepted x-api-key; repeat for several (default: one generated SG_ key)
  --time-scale F      emulated seconds per real second (default 1 = Segmind's pace)
  --seed S            seed for latencies and failures (default: random)
  --credits N         starting credits per key (default 100)
  --rate-limit N      requests per minute per key (default 50)
  --cache-dir DIR     where generated MP4s are cached (default .local/emulator-cache)
  --image-host H:P    a host:port it downloads first-frame images from, e.g. a local S3; repeat for
                      several (default: none, image URLs are only checked, never fetched)
  --fault-rate R      seeded random faults: each request draws one with probability R (0..1), from a
                      realistic mix per endpoint (see DEFAULT_RANDOM_FAULT_KINDS in random-faults.ts)
  --fault-endpoints L the endpoints that draw faults, comma-separated (default submit,status,result,download)
  --fault-seed S      seed of the fault draws (default: derived from --seed)
  --random-faults J   the whole random fault mode as JSON, e.g.
                      '{"rate":0.2,"kinds":{"submit":[{"kind":"error-after-accept","status":502,"body":"html"}]}}'
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
  const randomFaults = parseRandomFaultOptions(values);
  if (randomFaults !== undefined) options.randomFaults = randomFaults;
  const keys = values['api-key'] ?? [];
  if (keys.some((key) => key.trim() === '')) throw new UsageError('--api-key needs a non-empty value');
  if (keys.length > 0) options.apiKeys = keys;
  const imageHosts = values['image-host'] ?? [];
  if (imageHosts.length > 0) {
    try {
      parseHostList(imageHosts.join(','), '--image-host');
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    options.allowedImageHosts = imageHosts;
  }
  return options;
};

const ENDPOINTS: readonly Endpoint[] = ['submit', 'status', 'result', 'download', 'credits'];

const parseRandomFaultOptions = (values: {
  'fault-rate'?: string | undefined;
  'fault-endpoints'?: string | undefined;
  'fault-seed'?: string | undefined;
  'random-faults'?: string | undefined;
}): RandomFaults | undefined => {
  const rate = number('fault-rate', values['fault-rate'], (n) => n >= 0 && n <= 1);
  const seed = number('fault-seed', values['fault-seed'], (n) => Number.isInteger(n));
  const json = values['random-faults'];
  if (json !== undefined) {
    if (rate !== undefined || values['fault-endpoints'] !== undefined) {
      throw new UsageError(
        '--random-faults already says everything: drop --fault-rate and --fault-endpoints',
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new UsageError('--random-faults is not valid JSON');
    }
    return parseOrUsage(() =>
      parseRandomFaults({ ...(parsed as object), ...(seed === undefined ? {} : { seed }) }),
    );
  }
  if (rate === undefined) {
    if (values['fault-endpoints'] !== undefined || seed !== undefined) {
      throw new UsageError('--fault-endpoints and --fault-seed need --fault-rate');
    }
    return undefined;
  }
  const names = (values['fault-endpoints'] ?? 'submit,status,result,download')
    .split(',')
    .map((e) => e.trim());
  const unknown = names.filter((name) => !ENDPOINTS.includes(name as Endpoint));
  if (unknown.length > 0)
    throw new UsageError(`--fault-endpoints: unknown endpoint(s) ${unknown.join(', ')}`);
  const kinds = Object.fromEntries(
    names.map((name) => [name, [...DEFAULT_RANDOM_FAULT_KINDS[name as Endpoint]]]),
  );
  return parseOrUsage(() => parseRandomFaults({ rate, kinds, ...(seed === undefined ? {} : { seed }) }));
};

const parseOrUsage = <T>(parse: () => T): T => {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
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
      'image-host': { type: 'string', multiple: true },
      'fault-rate': { type: 'string' },
      'fault-endpoints': { type: 'string' },
      'fault-seed': { type: 'string' },
      'random-faults': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });

const describeRandomFaults = (random: RandomFaults | null): string => {
  if (random === null) return 'none drawn (inject them through the control API)';
  const endpoints = Object.keys(random.kinds ?? DEFAULT_RANDOM_FAULT_KINDS).filter(
    (endpoint) => ((random.kinds ?? DEFAULT_RANDOM_FAULT_KINDS)[endpoint as Endpoint] ?? []).length > 0,
  );
  return `random, rate ${random.rate} on ${endpoints.join(', ')}; counters at ${CONTROL_PREFIX}/counters and ${CONTROL_PREFIX}/requests`;
};

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
  faults:      ${describeRandomFaults(emulator.control.randomFaults())}
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
