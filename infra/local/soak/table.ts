// The soak's one table: what happened to the jobs and the money, then each invariant, pass or fail.
import type { SoakVerdict } from '#local/soak/invariants';

export interface SoakRunFacts {
  command: string;
  seed: number;
  faultRate: number;
  timeScale: number;
  rateLimitPerMinute: number;
  wallSeconds: number;
  eventLoopDelayMs: { p99: number; max: number };
  /** Faults the emulator applied, by endpoint and kind. */
  faultsByKind: Record<string, Record<string, number>>;
  segmindRequests: number;
}

const row = (label: string, value: string | number): string => `  ${label.padEnd(46)} ${value}`;

const listed = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key} ${n}`)
    .join(', ') || '-';

export const formatSoakTable = (verdict: SoakVerdict, facts: SoakRunFacts): string => {
  const f = verdict.figures;
  const faults = Object.entries(facts.faultsByKind).map(([endpoint, kinds]) =>
    row(`  faults on ${endpoint}`, listed(kinds)),
  );
  const totalFaults = Object.values(facts.faultsByKind)
    .flatMap((kinds) => Object.values(kinds))
    .reduce((sum, n) => sum + n, 0);
  return [
    `Soak: ${facts.command}`,
    row(
      'seed / fault rate / time scale / rate limit',
      `${facts.seed} / ${facts.faultRate} / ${facts.timeScale}x / ${facts.rateLimitPerMinute} rpm`,
    ),
    row('wall time', `${facts.wallSeconds.toFixed(1)} s`),
    row(
      'event-loop delay p99 / max',
      `${Math.round(facts.eventLoopDelayMs.p99)} / ${Math.round(facts.eventLoopDelayMs.max)} ms` +
        ` (${((facts.eventLoopDelayMs.p99 * facts.timeScale) / 1000).toFixed(1)} emulated s at p99)`,
    ),
    row('jobs (by source)', `${f.jobs} (${listed(f.bySource)})`),
    row('jobs by terminal status', listed(f.byStatus as Record<string, number>)),
    row('Segmind requests / faults applied', `${facts.segmindRequests} / ${totalFaults}`),
    ...faults,
    row('billed by Segmind', f.billed),
    row('delivered (billed and COMPLETED)', f.delivered),
    row(
      'billed but undelivered',
      `${f.billedUndelivered}${f.billedUndelivered > 0 ? ` (${listed(f.undeliveredCauses)})` : ''}`,
    ),
    row('billed, then cancelled by the user (apart)', f.billedCancelled),
    row('unknown submit outcomes (reported / emulator)', `${f.unknownReported} / ${f.createdWithoutAnswer}`),
    row('duplicate Segmind jobs', f.duplicates),
    '',
    ...verdict.invariants.map((i) => `  ${i.passed ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`),
    '',
    verdict.passed
      ? 'Soak passed: every invariant holds.'
      : `Soak FAILED: ${verdict.invariants.filter((i) => !i.passed).length} invariant(s) broken.`,
  ].join('\n');
};
