// One assertion for every failing call: the error's class and stable fields, and that the key never leaks.

import { expect } from 'vitest';
import {
  isSegmindError,
  type SegmindError,
  type SegmindErrorName,
  type SubmitOutcome,
} from '#segmind/errors';

export interface ExpectedError {
  name: SegmindErrorName;
  retryable: boolean;
  submitOutcome?: SubmitOutcome;
  httpStatus?: number;
  requestId?: string;
  message?: RegExp;
}

/** Every place a secret could hide in an error: message, stack, and the chain of causes. */
const everythingSaidBy = (error: unknown, depth = 0): string => {
  if (!(error instanceof Error) || depth > 5) return String(error);
  return [
    error.message,
    error.stack ?? '',
    JSON.stringify(error),
    everythingSaidBy(error.cause, depth + 1),
  ].join('\n');
};

export const expectSegmindError = async (
  call: Promise<unknown>,
  expected: ExpectedError,
  apiKey: string,
): Promise<SegmindError> => {
  const error: unknown = await call.then(
    (value) => {
      throw new Error(`expected ${expected.name}, got a result: ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  if (!isSegmindError(error)) throw error;
  expect(error.name).toBe(expected.name);
  expect(error.retryable).toBe(expected.retryable);
  if (expected.submitOutcome !== undefined) expect(error.submitOutcome).toBe(expected.submitOutcome);
  if (expected.httpStatus !== undefined) expect(error.httpStatus).toBe(expected.httpStatus);
  if (expected.requestId !== undefined) expect(error.requestId).toBe(expected.requestId);
  if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
  expect(everythingSaidBy(error)).not.toContain(apiKey);
  return error;
};
