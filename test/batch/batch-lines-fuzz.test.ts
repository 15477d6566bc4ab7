// A fuzz of batch manifest lines through the parser PrepareBatch runs on every line: generated lines that
// break the request rules are each reported INVALID with a reason naming the field, and none becomes a
// runnable line (so none gets a job id, a record or an execution).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRunnable, parseManifestLine } from '#domain/batch-manifest';
import { MAX_PROMPT_LENGTH } from '#domain/video-request';

const RUNS = 3_000;
const VALID = { prompt: 'waves on a rocky shore', duration: 6, resolution: '1080p', generateAudio: true };

const lines: fc.Arbitrary<{ text: string; field: string }> = fc.oneof(
  fc
    .oneof(
      fc.constantFrom('', '  \t', 'x'.repeat(MAX_PROMPT_LENGTH + 1)),
      fc
        .tuple(
          fc.string({ maxLength: 15 }),
          fc
            .integer({ min: 0, max: 0x9f })
            .filter((c) => c !== 0x09 && c !== 0x0a && (c < 0x20 || c >= 0x7f)),
        )
        .map(([a, c]) => `${a}x${String.fromCharCode(c)}y`),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((s) => `x${String.fromCharCode(s)}`),
      fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })),
    )
    .map((prompt) => ({ text: JSON.stringify({ ...VALID, prompt }), field: 'prompt' })),
  fc
    .oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.double())
    .filter((d) => ![6, 8, 10].includes(d as number))
    .map((duration) => ({ text: JSON.stringify({ ...VALID, duration }), field: 'duration' })),
  fc
    .string({ maxLength: 6 })
    .filter((r) => !['1080p', '2k', '4k'].includes(r))
    .map((resolution) => ({ text: JSON.stringify({ ...VALID, resolution }), field: 'resolution' })),
  fc
    .constantFrom('ftp://x.test/a.png', 'not a url', 'http://169.254.169.254/', 'https://u:p@x.test/a.png')
    .map((imageUrl) => ({ text: JSON.stringify({ ...VALID, imageUrl }), field: 'imageUrl' })),
  fc
    .stringMatching(/^[a-zA-Z]{1,10}$/)
    .filter((k) => !(k in VALID) && k !== 'imageUrl')
    .map((key) => ({ text: JSON.stringify({ ...VALID, [key]: 1 }), field: key })),
  fc
    .oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.constant(JSON.stringify(VALID).slice(0, -1)))
    .filter((text) => {
      try {
        const value: unknown = JSON.parse(text);
        return typeof value !== 'object' || value === null || Array.isArray(value);
      } catch {
        return text.trim() !== '';
      }
    })
    .map((text) => ({ text, field: '' })),
);

describe('fuzz: batch lines outside the contract start nothing', () => {
  it(`${RUNS} generated lines: each INVALID, naming the field, none runnable`, () => {
    fc.assert(
      fc.property(lines, fc.integer({ min: 1, max: 5000 }), ({ text, field }, line) => {
        const parsed = parseManifestLine(text, line, 'fuzz-batch');
        const where = `${text.slice(0, 200)} → ${JSON.stringify(parsed).slice(0, 300)}`;
        expect(isRunnable(parsed), where).toBe(false);
        if (isRunnable(parsed)) return;
        expect(parsed.line, where).toBe(line);
        expect(parsed.rejected.errorMessage.length, where).toBeGreaterThan(0);
        if (field !== '') expect(parsed.rejected.errorMessage, where).toContain(field);
      }),
      { numRuns: RUNS, seed: 20261206 },
    );
  });
});
