// The pure rules behind the client: which error each answer becomes, how metrics and reset times are read.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SegmindErrorName, SubmitOutcome } from '#segmind/errors';
import type { HttpAnswer } from '#segmind/http';
import { TransportFailure } from '#segmind/http';
import {
  type CallContext,
  errorFromStatus,
  errorFromTransport,
  followableUrl,
  readMetrics,
  readResetAt,
  readStatusAnswer,
  readSubmitAnswer,
  requestIdFromUrl,
  sanitise,
} from '#segmind/wire';

const SECRET = 'SG_fedcba9876543210';
const submit: CallContext = { operation: 'submit', requestId: undefined, secret: SECRET };
const poll: CallContext = { operation: 'status', requestId: 'req-1', secret: SECRET };

const answer = (status: number, body: string, headers: HttpAnswer['headers'] = {}): HttpAnswer => ({
  status,
  headers,
  body: Buffer.from(body),
  bodyState: 'complete',
});

describe('errorFromStatus', () => {
  // [status, submit name, submit outcome, poll name, retryable]
  const table: Array<[number, SegmindErrorName, SubmitOutcome, SegmindErrorName, boolean]> = [
    [400, 'SegmindBadRequestError', 'not-created', 'SegmindBadRequestError', false],
    [401, 'SegmindAuthError', 'not-created', 'SegmindAuthError', false],
    [403, 'SegmindAuthError', 'not-created', 'SegmindAuthError', false],
    [404, 'SegmindModelGoneError', 'not-created', 'SegmindNotFoundError', false],
    [406, 'SegmindInsufficientCreditsError', 'not-created', 'SegmindInsufficientCreditsError', false],
    [410, 'SegmindModelGoneError', 'not-created', 'SegmindModelGoneError', false],
    [422, 'SegmindBadRequestError', 'not-created', 'SegmindMalformedResponseError', false],
    [429, 'SegmindRateLimitedError', 'not-created', 'SegmindRateLimitedError', true],
    [500, 'SegmindUnavailableError', 'not-created', 'SegmindUnavailableError', true],
    [502, 'SegmindUnavailableError', 'may-exist', 'SegmindUnavailableError', true],
    [503, 'SegmindUnavailableError', 'not-created', 'SegmindUnavailableError', true],
    [504, 'SegmindUnavailableError', 'may-exist', 'SegmindUnavailableError', true],
    [524, 'SegmindUnavailableError', 'may-exist', 'SegmindUnavailableError', true],
    [405, 'SegmindMalformedResponseError', 'not-created', 'SegmindMalformedResponseError', true],
  ];

  it.each(table)('HTTP %i → submit %s (%s), poll %s', (status, submitName, outcome, pollName, retryable) => {
    const onSubmit = errorFromStatus(answer(status, '{"error":"x"}'), submit, '1 MiB');
    expect(onSubmit.name).toBe(submitName);
    expect(onSubmit.submitOutcome).toBe(outcome);
    expect(onSubmit.httpStatus).toBe(status);
    const onPoll = errorFromStatus(answer(status, '{"error":"x"}'), poll, '1 MiB');
    expect(onPoll.name).toBe(pollName);
    expect(onPoll.requestId).toBe('req-1');
    // A GET creates nothing, whatever happened.
    expect(onPoll.submitOutcome).toBe('not-created');
    if (pollName === submitName) expect(onPoll.retryable).toBe(onSubmit.retryable);
    if (status !== 422) expect(onSubmit.retryable).toBe(retryable);
  });

  it.each([
    ['html', '<html><head><title>500 Internal Server Error</title></head></html>', 'may-exist'],
    ['empty', '', 'may-exist'],
    ['text', 'upstream request timeout', 'may-exist'],
    ["a gateway's JSON", '{"message":"Internal server error"}', 'may-exist'],
    ['JSON with an empty error', '{"error":""}', 'may-exist'],
    ["Segmind's JSON", '{"error":"Internal Server Error"}', 'not-created'],
  ] as const)('a 500 or 503 on submit with a %s body → %s', (_kind, body, expected) => {
    for (const status of [500, 503]) {
      expect(errorFromStatus(answer(status, body), submit, '1 MiB').submitOutcome).toBe(expected);
      expect(errorFromStatus(answer(status, body), poll, '1 MiB').submitOutcome).toBe('not-created');
    }
  });

  it('a 500 whose body broke off is an unknown outcome: nothing proves Segmind refused', () => {
    const cut: HttpAnswer = { status: 500, headers: {}, body: Buffer.alloc(0), bodyState: 'cut' };
    expect(errorFromStatus(cut, submit, '1 MiB').submitOutcome).toBe('may-exist');
  });

  it("carries Segmind's message, or the title of an HTML page, without the key", () => {
    expect(
      errorFromStatus(answer(404, '{"error":"Request abc not found"}'), poll, '1 MiB').message,
    ).toContain('Request abc not found');
    const html = errorFromStatus(
      answer(502, '<html><head><title>502 Bad Gateway</title></head></html>'),
      submit,
      '1 MiB',
    );
    expect(html.message).toContain('HTML page "502 Bad Gateway"');
    const echoed = errorFromStatus(answer(401, `{"error":"bad key ${SECRET}"}`), submit, '1 MiB');
    expect(echoed.message).not.toContain(SECRET);
  });

  it('takes the 429 reset time from x-rate-limit-reset-at-utc', () => {
    const error = errorFromStatus(
      answer(429, '{"error":"slow down"}', { 'x-rate-limit-reset-at-utc': '2026-03-01T10:00:30Z' }),
      poll,
      '1 MiB',
    );
    expect(error).toHaveProperty('resetAt', new Date('2026-03-01T10:00:30Z'));
    expect(errorFromStatus(answer(429, ''), poll, '1 MiB')).toHaveProperty('resetAt', undefined);
  });
});

describe('errorFromTransport', () => {
  it.each([
    ['network', false, 'SegmindUnavailableError', 'not-created'],
    ['network', true, 'SegmindUnavailableError', 'may-exist'],
    ['connect-timeout', false, 'SegmindTimeoutError', 'not-created'],
    ['read-timeout', true, 'SegmindTimeoutError', 'may-exist'],
    ['read-timeout', false, 'SegmindTimeoutError', 'not-created'],
  ] as const)('%s with requestSent=%s → %s, %s on submit', (kind, sent, name, outcome) => {
    const failure = new TransportFailure(kind, sent, sent);
    const onSubmit = errorFromTransport(failure, submit);
    expect(onSubmit.name).toBe(name);
    expect(onSubmit.retryable).toBe(true);
    expect(onSubmit.submitOutcome).toBe(outcome);
    expect(errorFromTransport(failure, poll).submitOutcome).toBe('not-created');
  });
});

describe('readSubmitAnswer', () => {
  const base = 'https://api.segmind.com';

  it('a 2xx whose body was cut or too large may have created the job', () => {
    for (const bodyState of ['cut', 'too-large', 'timed-out'] as const) {
      const cut: HttpAnswer = { ...answer(200, ''), bodyState };
      expect(() => readSubmitAnswer(cut, submit, base, '1 MiB')).toThrow(
        expect.objectContaining({ submitOutcome: 'may-exist', retryable: true }),
      );
    }
  });

  it('never follows a downgrade to http from an https base', () => {
    const accepted = readSubmitAnswer(
      answer(
        200,
        '{"request_id":"a b","status_url":"http://api.segmind.com/x","response_url":"https://cdn.segmind.com/r"}',
      ),
      submit,
      base,
      '1 MiB',
    );
    expect(accepted).toEqual({
      requestId: 'a b',
      statusUrl: 'https://api.segmind.com/v2/requests/a%20b/status',
      responseUrl: 'https://cdn.segmind.com/r',
    });
  });
});

describe('readStatusAnswer', () => {
  it('uses the id it asked about when the body has none, and the detail of a FAILED job', () => {
    expect(
      readStatusAnswer(answer(422, '{"status":"FAILED","error":{"code":"nsfw"}}'), poll, '1 MiB'),
    ).toEqual({
      requestId: 'req-1',
      status: 'FAILED',
      error: '{"code":"nsfw"}',
      metrics: {},
    });
    expect(readStatusAnswer(answer(200, '{"status":"FAILED"}'), poll, '1 MiB').error).toBe(
      'Segmind gave no error detail',
    );
  });
});

describe('readMetrics', () => {
  it('maps the documented fields to camelCase', () => {
    expect(
      readMetrics({ inference_time: 1, queue_time: 2, total_time: 3, cost: 0.5, remaining_credits: 9 }),
    ).toEqual({
      inferenceTime: 1,
      queueTime: 2,
      totalTime: 3,
      cost: 0.5,
      remainingCredits: 9,
    });
  });

  it('never throws and keeps only finite numbers, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const metrics = readMetrics(value);
        for (const number of Object.values(metrics)) expect(Number.isFinite(number)).toBe(true);
        expect(
          Object.keys(metrics).every((key) =>
            ['inferenceTime', 'queueTime', 'totalTime', 'cost', 'remainingCredits'].includes(key),
          ),
        ).toBe(true);
      }),
    );
    expect(
      readMetrics({ cost: '0.5', inference_time: Number.NaN, queue_time: null, total_time: Infinity }),
    ).toEqual({});
  });
});

describe('readResetAt', () => {
  it.each([
    ['2026-03-01T10:00:30Z', '2026-03-01T10:00:30.000Z'],
    ['2026-03-01T10:00:30.250+01:00', '2026-03-01T09:00:30.250Z'],
    ['2026-03-01 10:00:30', '2026-03-01T10:00:30.000Z'],
    ['1772359230', '2026-03-01T10:00:30.000Z'],
    ['1772359230000', '2026-03-01T10:00:30.000Z'],
  ])('%s → %s', (header, iso) => {
    expect(readResetAt(header)?.toISOString()).toBe(iso);
  });

  it.each([undefined, '', 'soon', 'Tuesday'])('%s → undefined', (header) => {
    expect(readResetAt(header)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('finds the request id in status and response URLs', () => {
    expect(requestIdFromUrl(new URL('https://api.segmind.com/v2/requests/ab%2Fc/status'))).toBe('ab/c');
    expect(requestIdFromUrl(new URL('https://api.segmind.com/v2/requests/abc'))).toBe('abc');
    expect(requestIdFromUrl(new URL('https://api.segmind.com/other'))).toBeUndefined();
  });

  it('follows only http(s) URLs', () => {
    expect(followableUrl('data:text/plain,hi', 'http://127.0.0.1:1')).toBeUndefined();
    expect(followableUrl(42, 'http://127.0.0.1:1')).toBeUndefined();
    expect(followableUrl('http://127.0.0.1:2/x', 'http://127.0.0.1:1')).toBe('http://127.0.0.1:2/x');
  });

  it('sanitise redacts the key, flattens and bounds text', () => {
    const text = sanitise(`line1\n${SECRET}\t${'y'.repeat(1000)}`, SECRET);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('\n');
    expect(text.length).toBeLessThanOrEqual(301);
  });
});
