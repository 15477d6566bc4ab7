// `npm run dev` as a child process for end-to-end tests: everything it prints, and a wait for a line.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const DEV = join(ROOT, 'infra', 'local', 'dev.ts');

export interface DevProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything printed on stdout and stderr so far. */
  readonly output: string;
  /** Settles with the exit code and signal once the process ends. */
  readonly exited: Promise<unknown[]>;
  /** Resolves with the groups of the first match of `pattern` in the output, once printed. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<string[]>;
}

/** Starts `npm run dev` with `args`, its environment extended by `env`. */
export const startDev = (
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  defaultTimeoutMs = 30_000,
): DevProcess => {
  const child = spawn(process.execPath, ['--import', 'tsx', DEV, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let output = '';
  const exited = once(child, 'exit');
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const printed = (pattern: RegExp, timeoutMs = defaultTimeoutMs): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not printed: ${pattern}\n${output}`)), timeoutMs);
      const check = () => {
        const found = pattern.exec(output);
        if (!found) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve(found.slice(1).map((group) => group ?? ''));
      };
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`dev exited before printing ${pattern}:\n${output}`)));
      check();
    });
  return {
    child,
    get output() {
      return output;
    },
    exited,
    printed,
  };
};

/** The groups of `pattern` in `text`; throws, showing the text, when it is not there. */
export const match = (text: string, pattern: RegExp): string[] => {
  const found = pattern.exec(text);
  if (!found) throw new Error(`${pattern} not found in:\n${text}`);
  return found.slice(1).map((group) => group ?? '');
};
