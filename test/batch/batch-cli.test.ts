// `npm run batch` as a user runs it: a child process that runs a manifest on the local stack, prints each
// line as its job ends and then the summary, and exits 0 only when every line made its video.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalCli } from '#test/support/local-cli';

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ltx-batch-cli-'));
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Runs the CLI in workDir; its data in workDir/.local is kept across runs. */
const batch = (args: string[]) => runLocalCli('batch', args, workDir);

const request = (prompt: string) =>
  JSON.stringify({ prompt, resolution: '1080p', duration: 6, generateAudio: false });

describe('npm run batch', () => {
  it('runs every line, prints the summary and exits 0 when all videos are made', async () => {
    await writeFile(join(workDir, 'prompts.jsonl'), `${request('a fox')}\n\n${request('a heron')}\n`);
    const { code, stdout, stderr } = await batch([
      'prompts.jsonl',
      '--batch-id',
      'cli',
      '--time-scale',
      '200',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Batch cli: 2 lines, 2 to run, 0 invalid');
    expect(stdout).toMatch(/line 1 +batch-cli-1 +COMPLETED/);
    expect(stdout).toMatch(/line 3 +batch-cli-3 +COMPLETED/);
    expect(stdout).toContain('Batch cli COMPLETED: 2 lines — 2 COMPLETED');
    expect(stdout).toContain('batches/cli/summary.json');
  });

  it('runs the same batch again without redoing a line, reports a bad line and exits 1', async () => {
    await writeFile(
      join(workDir, 'prompts.jsonl'),
      `${request('a fox')}\n\n${request('a heron')}\n{"prompt": "a crane", "duration": 5}\n`,
    );
    const { code, stdout } = await batch(['prompts.jsonl', '--batch-id', 'cli', '--time-scale', '200']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/line 1 +batch-cli-1 +COMPLETED \(ran before, not run again\)/);
    expect(stdout).toContain('0 jobs started, 2 ran before');
    expect(stdout).toContain('Batch cli COMPLETED_WITH_FAILURES: 3 lines — 2 COMPLETED, 1 INVALID');
    expect(stdout).toMatch(/line 4: INVALID InvalidVideoRequestError — .*duration must be one of 6, 8, 10/);
  });

  it('explains its usage and exits 2 on a wrong command line', async () => {
    const missing = await batch(['nowhere.jsonl']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('manifest: no such file nowhere.jsonl');
    const badConcurrency = await batch(['prompts.jsonl', '--concurrency', '0']);
    expect(badConcurrency.code).toBe(2);
    expect(badConcurrency.stderr).toContain('concurrency: must be a positive integer');
  });
});
