// Runs a local command line (`npm run generate`, `npm run batch`) as a user would: a child process, with
// the emulator (never Segmind) and its data in <workDir>/.local.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs infra/local/<script>.ts with `args` in workDir (also its INIT_CWD) and waits for it to exit. */
export const runLocalCli = (script: 'generate' | 'batch', args: string[], workDir: string): Promise<CliRun> =>
  run(TSX, [join(ROOT, 'infra', 'local', `${script}.ts`), ...args], {
    cwd: workDir,
    env: {
      ...process.env,
      SEGMIND_API_KEY: '',
      INIT_CWD: workDir,
      LTX_LOCAL_DATA_DIR: join(workDir, '.local'),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    timeout: 120_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
