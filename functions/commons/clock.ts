// The job clock: converts between real time and "job seconds". On AWS they are the same (time scale 1);
// locally the Segmind emulator's clock runs timeScale× faster, and this keeps our waits in step with it.
import { ENV } from '#commons/env';

export interface JobClock {
  readonly timeScale: number;
  /** The real current time. */
  now(): Date;
  /** Job seconds since an ISO-8601 instant (real elapsed × timeScale). Throws on an unreadable instant. */
  elapsedSeconds(sinceIso: string): number;
  /** The real instant that lies `jobSecondsFromNow` job seconds ahead (now + seconds / timeScale). */
  at(jobSecondsFromNow: number): Date;
}

export interface JobClockOptions {
  timeScale: number;
  /** Milliseconds since the epoch; Date.now unless a test supplies its own. */
  now?: () => number;
}

const checkedTimeScale = (timeScale: number): number => {
  if (typeof timeScale !== 'number' || !Number.isFinite(timeScale) || timeScale <= 0) {
    throw new RangeError(`time scale must be a positive number, got ${String(timeScale)}`);
  }
  return timeScale;
};

export const createJobClock = ({ timeScale, now = Date.now }: JobClockOptions): JobClock => {
  const scale = checkedTimeScale(timeScale);
  return Object.freeze({
    timeScale: scale,
    now: () => new Date(now()),
    elapsedSeconds: (sinceIso: string): number => {
      const since = Date.parse(sinceIso);
      if (Number.isNaN(since)) {
        throw new RangeError(`not an ISO-8601 timestamp: ${JSON.stringify(sinceIso)}`);
      }
      return ((now() - since) / 1000) * scale;
    },
    at: (jobSecondsFromNow: number): Date => {
      if (!Number.isFinite(jobSecondsFromNow)) {
        throw new RangeError(`job seconds must be finite, got ${String(jobSecondsFromNow)}`);
      }
      return new Date(now() + (jobSecondsFromNow * 1000) / scale);
    },
  });
};

/** Reads LTX_TIME_SCALE: unset or empty means 1; anything but a positive number is a configuration error. */
export const parseTimeScale = (raw: string | undefined): number => {
  if (raw === undefined || raw.trim() === '') return 1;
  const value = Number(raw.trim());
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${ENV.timeScale} must be a positive number (e.g. 1, or 60 locally), got "${raw}"`);
  }
  return value;
};

/** The job clock configured by the environment (always time scale 1 on AWS). */
export const jobClockFromEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env,
  now?: () => number,
): JobClock => createJobClock({ timeScale: parseTimeScale(env[ENV.timeScale]), ...(now ? { now } : {}) });
