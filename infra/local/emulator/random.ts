// Seeded randomness, so that a run with the same seed draws the same latencies and failures.
import { randomBytes } from 'node:crypto';

/** A uniform generator on [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough for simulation (not for secrets). */
export const mulberry32 = (seed: number): Random => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** A standard normal draw (Box–Muller). Always consumes exactly two uniforms, which keeps streams aligned. */
export const standardNormal = (random: Random): number => {
  const u1 = Math.max(random(), Number.MIN_VALUE);
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
};

/** A log-normal draw with the given median and sigma (of the underlying normal). */
export const logNormal = (random: Random, median: number, sigma: number): number =>
  median * Math.exp(sigma * standardNormal(random));

/** A fresh 32-bit seed when the caller did not fix one. */
export const randomSeed = (): number => randomBytes(4).readUInt32LE(0);

/** A key in Segmind's shape: `SG_` + 16 hex digits. */
export const generateApiKey = (): string => `SG_${randomBytes(8).toString('hex')}`;
