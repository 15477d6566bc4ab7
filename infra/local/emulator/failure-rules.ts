// Which jobs end FAILED instead of COMPLETED, decided once at submit so a job's fate never changes
// between two polls.
import type { FailureRule } from '#emulator/control';

export const CONTENT_BLOCKED_MESSAGE =
  'Content blocked by the safety filter: the prompt or image violates the content policy';
export const DEFAULT_FAILURE_MESSAGE = 'Inference failed: the worker hit an internal error while generating';

export interface FailureDecision {
  kind: FailureRule['kind'];
  error: string;
}

/**
 * The first rule whose `promptContains` occurs in the prompt (case-insensitive) wins; otherwise the first
 * rule with a `probability` above `draw` (one uniform per job, so rules do not compound).
 */
export const decideFailure = (
  rules: readonly FailureRule[],
  prompt: string,
  draw: number,
): FailureDecision | undefined => {
  const lowered = prompt.toLowerCase();
  const rule =
    rules.find((r) => r.promptContains !== undefined && lowered.includes(r.promptContains.toLowerCase())) ??
    rules.find((r) => r.probability !== undefined && draw < r.probability);
  if (rule === undefined) return undefined;
  const fallback = rule.kind === 'content-blocked' ? CONTENT_BLOCKED_MESSAGE : DEFAULT_FAILURE_MESSAGE;
  return { kind: rule.kind, error: rule.error ?? fallback };
};
