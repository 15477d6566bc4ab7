// startEmulator: a Segmind stand-in on 127.0.0.1 for tests, benchmarks and the local stack.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseHostList } from '#domain/url-safety';
import type { EmulatorControl, EmulatorOptions, RunningEmulator } from '#emulator/control';
import { buildConfig, EmulatorCore } from '#emulator/emulator';
import { generateApiKey, randomSeed } from '#emulator/random';
import { createEmulatorServer } from '#emulator/server';
import { VideoLibrary } from '#emulator/videos';

export { CONTROL_PREFIX } from '#emulator/control';
export type { LatencyDraw, LatencyRequest } from '#emulator/latency-model';
export { DEFAULT_LATENCY_MODEL, drawLatency, medianInferenceSeconds } from '#emulator/latency-model';
export { mulberry32 } from '#emulator/random';
export { DEFAULT_RANDOM_FAULT_KINDS } from '#emulator/random-faults';

/** `.local/emulator-cache` under the project root (gitignored), shared by every emulator on the machine. */
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../../.local/emulator-cache', import.meta.url));

export const startEmulator = async (options: EmulatorOptions = {}): Promise<RunningEmulator> => {
  const apiKeys =
    options.apiKeys !== undefined && options.apiKeys.length > 0 ? [...options.apiKeys] : [generateApiKey()];
  if (apiKeys.some((key) => key.trim() === '')) throw new RangeError('API keys must be non-empty strings');
  const credits = options.credits ?? 100;
  if (!Number.isFinite(credits) || credits < 0)
    throw new RangeError(`credits must be >= 0, got ${String(credits)}`);
  const config = buildConfig({
    timeScale: options.timeScale,
    rateLimitPerMinute: options.rateLimitPerMinute,
    retentionSeconds: options.retentionSeconds,
    costPerJob: options.costPerJob,
    latency: options.latency,
  });
  const videos = new VideoLibrary({ cacheDir: options.cacheDir ?? DEFAULT_CACHE_DIR });
  const imagePolicy = {
    allowedHosts: parseHostList((options.allowedImageHosts ?? []).join(','), 'allowedImageHosts'),
    ...(options.resolveImageHost ? { resolve: options.resolveImageHost } : {}),
  };
  const core = new EmulatorCore({
    apiKeys,
    seed: options.seed ?? randomSeed(),
    credits,
    config,
    videos,
    randomFaults: options.randomFaults,
    imagePolicy,
  });
  const server = createEmulatorServer(core);
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  core.baseUrl = `http://127.0.0.1:${port}`;

  // Only the documented operations, bound: callers cannot reach the core's internals.
  const control: EmulatorControl = {
    configure: (patch) => core.configure(patch),
    config: () => core.config(),
    injectFault: (fault) => core.injectFault(fault),
    clearFaults: () => core.clearFaults(),
    addFailureRule: (rule) => core.addFailureRule(rule),
    clearFailureRules: () => core.clearFailureRules(),
    setCredits: (apiKey, amount) => core.setCredits(apiKey, amount),
    counters: () => core.counters(),
    jobs: () => core.jobs(),
    reset: () => core.reset(),
    advanceClock: (seconds) => core.advanceClock(seconds),
    setRandomFaults: (random) => core.setRandomFaults(random),
    randomFaults: () => core.randomFaults(),
    requests: () => core.requests(),
    submits: () => core.submits(),
  };
  Object.freeze(control);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      core.cancelSleeps();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      // Wait for killed ffmpeg runs to clean up, so no temp file outlives the emulator.
      await Promise.all([closed, videos.close()]);
    })();
    return stopped;
  };

  const prepareVideos: RunningEmulator['prepareVideos'] = async (shapes) => {
    await Promise.all(
      shapes.map((shape) =>
        videos.ensure({ resolution: shape.resolution, duration: shape.duration, audio: shape.generateAudio }),
      ),
    );
  };

  return { url: core.baseUrl, apiKeys, control, stop, prepareVideos };
};
