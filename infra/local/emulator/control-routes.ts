// The control API over HTTP (CONTROL_PREFIX): the same operations as the in-process `control` object.
// No API key, no rate limit, not counted as Segmind traffic.
import { ControlInputError, clockSchema, creditsSchema, parseOrThrow } from '#emulator/control-schemas';
import type { EmulatorCore } from '#emulator/emulator';
import { json, jsonError, type Reply } from '#emulator/replies';

type Body = () => Promise<unknown>;

const ok = (extra: Record<string, unknown> = {}): Reply => json(200, { ok: true, ...extra });

const routes: Record<string, (core: EmulatorCore, body: Body) => Promise<Reply> | Reply> = {
  'GET /config': (core) => json(200, { ...core.config() }),
  'POST /config': async (core, body) => {
    core.configure((await body()) as Parameters<EmulatorCore['configure']>[0]);
    return json(200, { ...core.config() });
  },
  'POST /faults': async (core, body) => {
    core.injectFault((await body()) as Parameters<EmulatorCore['injectFault']>[0]);
    return ok({ faults: core.faults.list().length });
  },
  'DELETE /faults': (core) => {
    core.clearFaults();
    return ok();
  },
  'POST /failures': async (core, body) => {
    core.addFailureRule((await body()) as Parameters<EmulatorCore['addFailureRule']>[0]);
    return ok();
  },
  'DELETE /failures': (core) => {
    core.clearFailureRules();
    return ok();
  },
  'POST /credits': async (core, body) => {
    const { apiKey, credits } = parseOrThrow(creditsSchema, await body(), 'credits');
    core.setCredits(apiKey, credits);
    return ok({ apiKey, credits: core.credits(apiKey) });
  },
  'GET /counters': (core) => json(200, { ...core.counters() }),
  'GET /jobs': (core) => json(200, { jobs: core.jobs() }),
  'POST /reset': (core) => {
    core.reset();
    return ok();
  },
  'GET /random-faults': (core) => json(200, { randomFaults: core.randomFaults() }),
  'POST /random-faults': async (core, body) => {
    core.setRandomFaults((await body()) as Parameters<EmulatorCore['setRandomFaults']>[0]);
    return ok({ randomFaults: core.randomFaults() });
  },
  'DELETE /random-faults': (core) => {
    core.setRandomFaults(null);
    return ok();
  },
  'GET /requests': (core) => json(200, { requests: core.requests() }),
  'GET /submits': (core) => json(200, { submits: core.submits() }),
  'POST /clock': async (core, body) => {
    const { advanceSeconds } = parseOrThrow(clockSchema, await body(), 'clock');
    core.advanceClock(advanceSeconds);
    return ok();
  },
};

export const controlRoute = async (
  core: EmulatorCore,
  method: string,
  subpath: string,
  readBody: () => Promise<Buffer | undefined>,
): Promise<Reply> => {
  const route = routes[`${method} ${subpath}`];
  if (route === undefined) return jsonError(404, `No control route ${method} ${subpath}`);
  const body: Body = async () => {
    const raw = await readBody();
    if (raw === undefined) throw new ControlInputError('control body too large');
    if (raw.length === 0) return {};
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ControlInputError('control body is not valid JSON');
    }
  };
  try {
    return await route(core, body);
  } catch (error) {
    if (error instanceof ControlInputError || error instanceof RangeError)
      return jsonError(400, error.message);
    throw error;
  }
};
