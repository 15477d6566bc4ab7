// `npm run soak -- --jobs 500 --fault-rate 0.25 --seed N`: the whole local stack under seeded upstream
// faults (API jobs, image uploads and one batch at once), then one table of what happened and every
// invariant, pass or fail. Exits 1 when an invariant is broken: it is a tool that finds what to fix.
import '#local/polyfills';
import { join } from 'node:path';
import { runCommand } from '#local/cli';
import { parseSoakCommand, USAGE } from '#local/soak/options';
import { runSoak } from '#local/soak/run';

const main = async (argv: string[]): Promise<number> => {
  const options = parseSoakCommand(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const report = await runSoak(options, {
    command: `npm run soak -- ${argv.join(' ')}`.trim(),
    progress: true,
  });
  console.log(report.table);
  console.log(`\nHandler logs: ${join(report.dataDir, 'soak.log')}`);
  return report.verdict.passed ? 0 : 1;
};

runCommand(main, USAGE);
