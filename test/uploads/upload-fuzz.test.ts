// A fuzz of the upload entry point: generated object keys, metadata and sidecars that break the request
// rules, through the use case the S3 event handler runs. None starts an execution or leaves a runnable
// (PENDING) record: each is skipped (not an image under the prefix) or refused by a FAILED record — the
// upload's only way to answer — whose message names what was wrong.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UPLOAD_POLICY, handleUploadEvent, type UploadJobPorts } from '#domain/upload-job';
import { MAX_PROMPT_LENGTH } from '#domain/video-request';
import { InMemoryJobStore } from '#test/support/workflow-fakes';
import { FakeUploads, IMAGE_BYTES, RecordingWorkflow, upload } from '#test/uploads/support/fake-uploads';

const RUNS = 2_000;

/** A metadata value as S3 carries non-ASCII text: an RFC 2047 encoded word. */
const encoded = (text: string): string => `=?utf-8?b?${Buffer.from(text, 'utf8').toString('base64')}?=`;

const controlCharacter = fc
  .integer({ min: 0, max: 0x9f })
  .filter((c) => c !== 0x09 && c !== 0x0a && (c < 0x20 || c >= 0x7f));

/** A prompt no request may carry, and the words its refusal uses. */
const badPrompt = fc.oneof(
  fc.constantFrom({ text: '   ', says: /prompt must not be empty/ }),
  fc.constant({ text: 'x'.repeat(MAX_PROMPT_LENGTH + 1), says: /at most 5000 characters/ }),
  fc
    .tuple(fc.string({ maxLength: 15 }), controlCharacter, fc.string({ maxLength: 15 }))
    .map(([a, c, b]) => ({ text: `${a}x${String.fromCharCode(c)}y${b}`, says: /control characters/ })),
);

type Case = { key: string; metadata: Record<string, string>; sidecar?: string; says: RegExp };

const imageKey = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9 ._()-]{1,20}$/), fc.constantFrom('png', 'jpg', 'jpeg', 'webp', 'PNG'))
  .map(([name, ext]) => `uploads/${name}.${ext}`);

const cases: fc.Arbitrary<Case> = fc.oneof(
  // Bad metadata, one field at a time; S3 hands metadata over as text.
  fc.tuple(imageKey, badPrompt).map(([key, p]) => ({
    key,
    metadata: { prompt: encoded(p.text) },
    says: /x-amz-meta-prompt/,
  })),
  fc
    .tuple(
      imageKey,
      fc
        .string({ maxLength: 8 })
        .filter((s) => !/^\d{1,6}$/.test(s.trim()) || ![6, 8, 10].includes(Number(s.trim()))),
    )
    .map(([key, duration]) => ({
      key,
      metadata: { prompt: 'a cat', duration },
      says: /x-amz-meta-duration/,
    })),
  fc
    .tuple(
      imageKey,
      fc.string({ maxLength: 8 }).filter((s) => !['1080p', '2k', '4k'].includes(s.trim())),
    )
    .map(([key, resolution]) => ({
      key,
      metadata: { prompt: 'a cat', resolution },
      says: /x-amz-meta-resolution/,
    })),
  fc
    .tuple(
      imageKey,
      fc.string({ maxLength: 8 }).filter((s) => !/^(true|false)$/i.test(s.trim())),
    )
    .map(([key, audio]) => ({
      key,
      metadata: { prompt: 'a cat', 'generate-audio': audio },
      says: /x-amz-meta-generate-audio/,
    })),
  fc
    .tuple(imageKey, fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 10 })))
    .map(([key, metadata]) => ({
      key,
      metadata: Object.fromEntries(Object.entries(metadata).filter(([name]) => name !== 'prompt')),
      says: /No prompt/,
    })),
  // A bad sidecar.
  fc.tuple(imageKey, badPrompt).map(([key, p]) => ({
    key,
    metadata: {},
    sidecar: JSON.stringify({ prompt: p.text }),
    says: p.says,
  })),
  fc
    .tuple(imageKey, fc.oneof(fc.string({ maxLength: 20 }), fc.constant('{"prompt":"a cat",')))
    .filter(([, text]) => {
      try {
        const value: unknown = JSON.parse(text);
        return typeof value !== 'object' || value === null;
      } catch {
        return true;
      }
    })
    .map(([key, sidecar]) => ({ key, metadata: {}, sidecar, says: /Sidecar|sidecar/ })),
  fc.tuple(imageKey, fc.constantFrom('imageUrl', 'fps', 'seed', 'Prompt')).map(([key, field]) => ({
    key,
    metadata: {},
    sidecar: JSON.stringify({ prompt: 'a cat', [field]: 'x' }),
    says: new RegExp(field),
  })),
  // Not an image.
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
      fc.constantFrom('gif', 'txt', 'mp4', 'svg', 'png.exe', ''),
    )
    .map(([name, ext]) => ({
      key: `uploads/${name}${ext === '' ? '' : `.${ext}`}`,
      metadata: { prompt: 'a cat' },
      says: /not a supported image/,
    })),
);

describe('fuzz: uploads outside the contract start nothing', () => {
  it(`${RUNS} generated keys, metadata and sidecars: refused naming what was wrong, or skipped`, async () => {
    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const jobs = new InMemoryJobStore();
        const workflow = new RecordingWorkflow();
        const uploads = new FakeUploads(false);
        const ports: UploadJobPorts = { jobs, workflow, objects: uploads, now: () => new Date() };
        if (c.sidecar !== undefined) uploads.put(`${c.key}.json`, c.sidecar, {});
        const event = upload(uploads, c.key, IMAGE_BYTES, c.metadata);

        const outcome = await handleUploadEvent(ports, DEFAULT_UPLOAD_POLICY, event);

        outcomes[outcome.action] = (outcomes[outcome.action] ?? 0) + 1;
        const where = `${JSON.stringify(c).slice(0, 300)} → ${JSON.stringify(outcome).slice(0, 300)}`;
        expect(['rejected', 'skipped'], where).toContain(outcome.action);
        if (outcome.action === 'rejected') expect(outcome.errorMessage, where).toMatch(c.says);
        expect(workflow.started, where).toEqual([]);
        expect(
          [...jobs.items.values()].every((job) => job.status === 'FAILED'),
          where,
        ).toBe(true);
      }),
      { numRuns: RUNS, seed: 20261206 },
    );
    expect(outcomes.rejected).toBeGreaterThan(RUNS * 0.8);
  });
});
