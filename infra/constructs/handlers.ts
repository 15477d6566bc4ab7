// Where the Lambda entry modules live: one flat kebab-case file per function under functions/, each
// exporting `handler`. Paths are absolute so synth works from any working directory.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const VIDEO_JOB_HANDLERS = [
  'submit',
  'poll-status',
  'fetch-result',
  'store-video',
  'record-failure',
] as const;
export type VideoJobHandler = (typeof VIDEO_JOB_HANDLERS)[number];

/** Absolute path of a handler module, e.g. `<root>/functions/poll-status.ts`. */
export const handlerEntry = (name: string): string => join(PROJECT_ROOT, 'functions', `${name}.ts`);
