import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyFailure,
  MAX_ERROR_MESSAGE_LENGTH,
  SUBMIT_OUTCOME_UNKNOWN,
  SUBMIT_OUTCOME_UNKNOWN_NOTICE,
} from '#domain/failure';

/** What Step Functions hands a Catch when a Lambda task throws (the Node runtime's error shape). */
const lambdaCause = (errorType: string, errorMessage: string): string =>
  JSON.stringify({
    errorType,
    errorMessage,
    trace: [
      `${errorType}: ${errorMessage}`,
      '    at pollStatus (file:///var/task/index.mjs:12:34)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ],
  });

describe('classifyFailure: terminal status per error', () => {
  it.each([
    ['SegmindNotFoundError', 'EXPIRED'],
    ['JobDeadlineExceededError', 'TIMED_OUT'],
    ['States.Timeout', 'TIMED_OUT'],
    ['States.HeartbeatTimeout', 'TIMED_OUT'],
    ['JobCancelledError', 'CANCELLED'],
    ['SegmindJobFailedError', 'FAILED'],
    ['SegmindAuthError', 'FAILED'],
    ['SegmindInsufficientCreditsError', 'FAILED'],
    ['VideoIntegrityError', 'FAILED'],
    ['States.TaskFailed', 'FAILED'],
    ['States.ALL', 'FAILED'],
    ['Lambda.Unknown', 'FAILED'],
    ['SomethingNobodyHeardOf', 'FAILED'],
  ])('%s → %s, with the error name as the code (SubmitOutcomeUnknownError aside, below)', (error, status) => {
    const result = classifyFailure({ Error: error, Cause: lambdaCause(error, 'detail') });
    expect(result.status).toBe(status);
    expect(result.errorCode).toBe(error);
  });
});

describe('classifyFailure: error names from outside', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'treats %s (an Object.prototype member) as any unknown error: FAILED, with string fields',
    (name) => {
      const result = classifyFailure({ Error: name });
      expect(result).toEqual({
        status: 'FAILED',
        errorCode: name,
        errorMessage: `${name} (no detail given)`,
      });
    },
  );

  it("reads only the failure's own Error and Cause, never inherited ones", () => {
    const inherited = Object.create({ Error: 'JobCancelledError', Cause: 'from the prototype' }) as {
      Error: string;
    };
    expect(classifyFailure(inherited)).toMatchObject({ status: 'FAILED', errorCode: 'UnknownError' });
  });
});

describe('classifyFailure: messages', () => {
  it('reads errorMessage from a Lambda error Cause and drops the stack trace', () => {
    const result = classifyFailure({
      Error: 'SegmindJobFailedError',
      Cause: lambdaCause('SegmindJobFailedError', 'Segmind reported the job as FAILED: Prompt is Mandatory'),
    });
    expect(result.errorMessage).toBe('Segmind reported the job as FAILED: Prompt is Mandatory');
    expect(result.errorMessage).not.toContain('index.mjs');
  });

  it('names the lost Segmind request and its one-hour retention for EXPIRED', () => {
    const id = '2c7f59ea-13f1-402c-9353-915a2b5a2124';
    const fromCause = classifyFailure({
      Error: 'SegmindNotFoundError',
      Cause: lambdaCause('SegmindNotFoundError', `Request ${id} not found`),
    });
    expect(fromCause.status).toBe('EXPIRED');
    expect(fromCause.errorMessage).toMatch(
      new RegExp(`^Segmind no longer knows request ${id} \\(results are kept 1 hour\\)`),
    );

    const fromContext = classifyFailure(
      { Error: 'SegmindNotFoundError' },
      { segmindRequestId: 'req-123456' },
    );
    expect(fromContext.errorMessage).toBe(
      'Segmind no longer knows request req-123456 (results are kept 1 hour)',
    );
  });

  it('records SubmitOutcomeUnknownError as SUBMIT_OUTCOME_UNKNOWN, saying first that Segmind may have billed it', () => {
    const message =
      'The submit may have created a Segmind job, but its request id is unknown; not re-submitted';
    const result = classifyFailure({
      Error: 'SubmitOutcomeUnknownError',
      Cause: lambdaCause('SubmitOutcomeUnknownError', message),
    });
    expect(result).toEqual({
      status: 'FAILED',
      errorCode: SUBMIT_OUTCOME_UNKNOWN,
      errorMessage: `${SUBMIT_OUTCOME_UNKNOWN_NOTICE} (${message})`,
    });
    expect(result.errorMessage).toMatch(/^Segmind may have billed this job/);
    // Without a Cause, and when the code itself comes back (a Fail state's error), the same record.
    expect(classifyFailure({ Error: 'SubmitOutcomeUnknownError' })).toEqual({
      status: 'FAILED',
      errorCode: SUBMIT_OUTCOME_UNKNOWN,
      errorMessage: SUBMIT_OUTCOME_UNKNOWN_NOTICE,
    });
    expect(classifyFailure({ Error: SUBMIT_OUTCOME_UNKNOWN }).errorMessage).toBe(
      SUBMIT_OUTCOME_UNKNOWN_NOTICE,
    );
  });

  it('takes a plain-string Cause as the message', () => {
    const result = classifyFailure({
      Error: 'DynamoDB.ConditionalCheckFailedException',
      Cause: 'The conditional request failed (Service: DynamoDb, Status Code: 400)',
    });
    expect(result.errorMessage).toBe('The conditional request failed (Service: DynamoDb, Status Code: 400)');
  });

  it('strips stack lines from a plain-string Cause too', () => {
    const result = classifyFailure({
      Error: 'Error',
      Cause: 'Error: boom\n    at a (/var/task/x.js:1:1)\n    at b (/var/task/y.js:2:2)',
    });
    expect(result.errorMessage).toBe('Error: boom');
  });

  it('gives a meaningful message when the Cause is missing or empty', () => {
    expect(classifyFailure({ Error: 'States.Timeout' }).errorMessage).toMatch(/timeout/i);
    expect(classifyFailure({ Error: 'JobCancelledError', Cause: '' }).errorMessage).toMatch(/cancelled/i);
    expect(classifyFailure({ Error: 'Weird.Error', Cause: '   ' }).errorMessage).toContain('Weird.Error');
    expect(classifyFailure({ Error: 'SegmindNotFoundError' }).errorMessage).toMatch(/no longer knows/);
  });

  it('survives a Cause that only looks like JSON, or is JSON without a message', () => {
    expect(classifyFailure({ Error: 'E', Cause: '{not json' }).errorMessage).toBe('{not json');
    expect(classifyFailure({ Error: 'E', Cause: '{"trace":["at x"]}' }).errorMessage).toBe(
      'E (no detail given)',
    );
    expect(classifyFailure({ Error: 'E', Cause: '{"code":42}' }).errorMessage).toBe('{"code":42}');
    expect(
      classifyFailure({ Error: 'E', Cause: JSON.stringify(lambdaCause('E', 'nested')) }).errorMessage,
    ).toBe('nested');
  });

  it('caps a huge Cause at the message limit', () => {
    const huge = 'x'.repeat(5_000_000);
    const plain = classifyFailure({ Error: 'E', Cause: huge });
    expect(plain.errorMessage.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
    expect(plain.errorMessage.endsWith('…')).toBe(true);
    const json = classifyFailure({
      Error: 'SegmindNotFoundError',
      Cause: lambdaCause('E', 'y'.repeat(50_000)),
    });
    expect(json.errorMessage.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
  });

  it('falls back to UnknownError when the Error name is missing', () => {
    const result = classifyFailure({ Error: '' });
    expect(result.errorCode).toBe('UnknownError');
    expect(result.status).toBe('FAILED');
  });

  it('never throws, and never returns an empty or unbounded message, whatever arrives', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (error, cause) => {
        const failure = { Error: error, Cause: cause } as unknown as { Error: string; Cause?: string };
        const result = classifyFailure(failure);
        expect(result.errorCode.length).toBeGreaterThan(0);
        expect(result.errorMessage.length).toBeGreaterThan(0);
        expect(result.errorMessage.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
      }),
    );
    expect(() => classifyFailure(null as unknown as { Error: string })).not.toThrow();
  });
});
