// The upload use case: an S3 "Object Created" event for an image (and its sidecar) becomes exactly one
// job, or one FAILED record that says why — never nothing, never two.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jobIdFromS3Object } from '#domain/job-id';
import {
  DEFAULT_UPLOAD_POLICY,
  decodeMetadataValue,
  handleUploadEvent,
  InvalidUploadEventError,
  MAX_SIDECAR_BYTES,
  matchesUploadKey,
  type UploadJobPorts,
  type UploadPolicy,
  uploadKeyPatterns,
} from '#domain/upload-job';
import { InMemoryJobStore, pendingJob } from '#test/support/workflow-fakes';
import {
  BUCKET,
  FakeUploads,
  IMAGE_BYTES,
  objectCreated,
  RecordingWorkflow,
  upload,
} from '#test/uploads/support/fake-uploads';

const NOW = new Date('2030-01-01T12:00:00.000Z');

const setup = (options: { versioned?: boolean; policy?: Partial<UploadPolicy> } = {}) => {
  const jobs = new InMemoryJobStore();
  const workflow = new RecordingWorkflow();
  const uploads = new FakeUploads(options.versioned ?? false);
  const ports: UploadJobPorts = { jobs, workflow, objects: uploads, now: () => NOW };
  const policy: UploadPolicy = { ...DEFAULT_UPLOAD_POLICY, ...options.policy };
  const handle = (event: unknown) => handleUploadEvent(ports, policy, event);
  return { jobs, workflow, uploads, handle };
};

const sidecar = (fields: Record<string, unknown>): string => JSON.stringify(fields);

describe('an image with a sidecar', () => {
  it('starts one image-to-video job whose request is the sidecar plus a presigned URL of the image', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: '  the cat turns its head ', duration: 6 }));
    const event = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);

    const outcome = await handle(event);

    const jobId = jobIdFromS3Object({
      bucket: BUCKET,
      key: 'uploads/cat.png',
      etag: event.detail.object.etag,
    });
    expect(outcome).toMatchObject({ action: 'started', jobId });
    const job = jobs.peek(jobId);
    expect(job).toMatchObject({ status: 'PENDING', source: 'upload', owner: `s3:${BUCKET}` });
    expect(job?.request).toEqual({
      prompt: 'the cat turns its head',
      duration: 6,
      resolution: '2k',
      generateAudio: true,
      imageUrl: `https://${BUCKET}.s3.amazonaws.com/uploads/cat.png?X-Amz-Expires=3600`,
    });
    expect(workflow.started).toEqual([{ jobId, request: job?.request }]);
    expect(uploads.presigned).toEqual([
      { location: { bucket: BUCKET, key: 'uploads/cat.png' }, ttlSeconds: 3600 },
    ]);
  });

  it('presigns for as long as the policy says', async () => {
    const { uploads, handle } = setup({ policy: { imageUrlTtlSeconds: 900 } });
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));
    expect(uploads.presigned.map((p) => p.ttlSeconds)).toEqual([900]);
  });

  it('derives the job id from the version on a versioned bucket, and pins the URL to that version', async () => {
    const { workflow, uploads, handle } = setup({ versioned: true });
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const first = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);
    const again = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);

    const one = await handle(first);
    const two = await handle(again);

    expect(one).toMatchObject({ action: 'started' });
    expect(two).toMatchObject({ action: 'started' });
    // The same bytes uploaded twice are two uploads: two versions, two jobs.
    expect(workflow.started.map((s) => s.jobId)).toEqual([
      jobIdFromS3Object({
        bucket: BUCKET,
        key: 'uploads/cat.png',
        versionId: first.detail.object['version-id'],
      }),
      jobIdFromS3Object({
        bucket: BUCKET,
        key: 'uploads/cat.png',
        versionId: again.detail.object['version-id'],
      }),
    ]);
    expect(uploads.presigned.map((p) => p.location.versionId)).toEqual([
      first.detail.object['version-id'],
      again.detail.object['version-id'],
    ]);
  });

  it('takes the sidecar over the metadata when both are there', async () => {
    const { jobs, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'from the sidecar' }));
    const outcome = await handle(
      upload(uploads, 'uploads/cat.png', IMAGE_BYTES, { prompt: 'from metadata' }),
    );
    expect(outcome.action).toBe('started');
    if (outcome.action !== 'started') return;
    expect(jobs.peek(outcome.jobId)?.request.prompt).toBe('from the sidecar');
  });

  it('accepts upper-case extensions', async () => {
    const { uploads, handle } = setup();
    upload(uploads, 'uploads/IMG_0001.JPG.json', sidecar({ prompt: 'a beach' }));
    expect(await handle(upload(uploads, 'uploads/IMG_0001.JPG', IMAGE_BYTES))).toMatchObject({
      action: 'started',
    });
  });

  it('finds an object whose key the event carries form-encoded', async () => {
    const { jobs, uploads, handle } = setup();
    upload(uploads, 'uploads/my cat+dog.png.json', sidecar({ prompt: 'two friends' }));
    const stored = uploads.put('uploads/my cat+dog.png', IMAGE_BYTES);
    const outcome = await handle(objectCreated('uploads/my+cat%2Bdog.png', { etag: stored.etag }));
    expect(outcome.action).toBe('started');
    if (outcome.action !== 'started') return;
    expect(outcome.image.key).toBe('uploads/my cat+dog.png');
    expect(jobs.peek(outcome.jobId)?.request.imageUrl).toContain('uploads/my%20cat+dog.png');
  });
});

describe('the prompt from object metadata', () => {
  it('reads x-amz-meta-prompt, -duration, -resolution and -generate-audio', async () => {
    const { jobs, uploads, handle } = setup();
    const outcome = await handle(
      upload(uploads, 'uploads/dog.webp', IMAGE_BYTES, {
        prompt: 'a dog catches a frisbee',
        duration: '10',
        resolution: '1080p',
        'generate-audio': 'FALSE',
        'unrelated-tool-metadata': 'ignored',
      }),
    );
    expect(outcome.action).toBe('started');
    if (outcome.action !== 'started') return;
    expect(jobs.peek(outcome.jobId)?.request).toMatchObject({
      prompt: 'a dog catches a frisbee',
      duration: 10,
      resolution: '1080p',
      generateAudio: false,
    });
  });

  it('decodes the RFC 2047 words S3 returns for non-ASCII metadata', async () => {
    const prompt = 'un chat qui sourit — 猫';
    const { jobs, uploads, handle } = setup();
    const encoded = `=?UTF-8?B?${Buffer.from(prompt).toString('base64')}?=`;
    const outcome = await handle(upload(uploads, 'uploads/chat.jpeg', IMAGE_BYTES, { prompt: encoded }));
    expect(outcome.action).toBe('started');
    if (outcome.action !== 'started') return;
    expect(jobs.peek(outcome.jobId)?.request.prompt).toBe(prompt);
    expect(decodeMetadataValue('=?utf-8?Q?caf=C3=A9_au_lait?=')).toBe('café au lait');
    expect(decodeMetadataValue('plain ascii')).toBe('plain ascii');
  });
});

describe('an upload that cannot run', () => {
  it('without any prompt is a FAILED record that says how to supply one, and starts nothing', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    const outcome = await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));

    expect(outcome).toMatchObject({ action: 'rejected', errorCode: 'MissingPromptError', created: true });
    if (outcome.action !== 'rejected') return;
    const job = jobs.peek(outcome.jobId);
    expect(job).toMatchObject({
      status: 'FAILED',
      source: 'upload',
      owner: `s3:${BUCKET}`,
      errorCode: 'MissingPromptError',
    });
    expect(job?.errorMessage).toContain(`s3://${BUCKET}/uploads/cat.png.json`);
    expect(job?.errorMessage).toContain('x-amz-meta-prompt');
    expect(job?.failedAt).toBe(NOW.toISOString());
    expect(workflow.started).toEqual([]);
    expect(uploads.presigned).toEqual([]);
  });

  it.each([
    ['not JSON', '{"prompt": "a cat",', /is not valid JSON/],
    ['not an object', '"a cat"', /must be a JSON object/],
    ['an empty prompt', sidecar({ prompt: '   ' }), /prompt must not be empty/],
    ['a wrong duration', sidecar({ prompt: 'a cat', duration: 7 }), /duration must be one of 6, 8, 10/],
    [
      'an unknown field',
      sidecar({ prompt: 'a cat', imageUrl: 'https://x.test/a.png' }),
      /imageUrl is not a known field/,
    ],
    ['no prompt', sidecar({ duration: 6 }), /prompt is required/],
  ])('with a sidecar holding %s is a FAILED record naming the problem', async (_, text, message) => {
    const { jobs, workflow, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', text);
    const outcome = await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));

    expect(outcome).toMatchObject({ action: 'rejected', errorCode: 'InvalidSidecarError' });
    if (outcome.action !== 'rejected') return;
    const job = jobs.peek(outcome.jobId);
    expect(job?.status).toBe('FAILED');
    expect(job?.errorMessage).toMatch(message);
    expect(job?.errorMessage).toContain(`s3://${BUCKET}/uploads/cat.png.json`);
    expect(workflow.started).toEqual([]);
  });

  it('with a sidecar over the size limit is refused without parsing it', async () => {
    const { uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'x'.repeat(MAX_SIDECAR_BYTES) }));
    const outcome = await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));
    expect(outcome).toMatchObject({ action: 'rejected', errorCode: 'InvalidSidecarError' });
    if (outcome.action === 'rejected') expect(outcome.errorMessage).toMatch(/at most 64 KiB/);
  });

  it('with bad metadata is a FAILED record naming the x-amz-meta header', async () => {
    const { uploads, handle } = setup();
    const outcome = await handle(
      upload(uploads, 'uploads/cat.png', IMAGE_BYTES, { prompt: 'a cat', duration: 'eight' }),
    );
    expect(outcome).toMatchObject({ action: 'rejected', errorCode: 'InvalidUploadMetadataError' });
    if (outcome.action === 'rejected') {
      expect(outcome.errorMessage).toMatch(/x-amz-meta-duration must be one of 6, 8, 10/);
    }
  });

  it.each([
    ['over the size limit', 2049, 'ImageTooLargeError', /is 3 KiB; images may be at most 2 KiB/],
    ['empty', 0, 'EmptyImageError', /is empty/],
  ])('when the image is %s is a FAILED record', async (_, bytes, code, message) => {
    const { workflow, uploads, handle } = setup({ policy: { maxImageBytes: 2048 } });
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const outcome = await handle(upload(uploads, 'uploads/cat.png', new Uint8Array(bytes)));
    expect(outcome).toMatchObject({ action: 'rejected', errorCode: code });
    if (outcome.action === 'rejected') expect(outcome.errorMessage).toMatch(message);
    expect(workflow.started).toEqual([]);
  });

  it('accepts an image of exactly the size limit', async () => {
    const { uploads, handle } = setup({ policy: { maxImageBytes: 2048 } });
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const outcome = await handle(upload(uploads, 'uploads/cat.png', new Uint8Array(2048)));
    expect(outcome.action).toBe('started');
  });

  it('with an unsupported extension is a FAILED record listing the supported ones', async () => {
    const { uploads, handle } = setup();
    const outcome = await handle(upload(uploads, 'uploads/cat.gif', IMAGE_BYTES, { prompt: 'a cat' }));
    expect(outcome).toMatchObject({ action: 'rejected', errorCode: 'UnsupportedImageTypeError' });
    if (outcome.action === 'rejected') expect(outcome.errorMessage).toContain('.jpg, .jpeg, .png, .webp');
  });

  it('is recorded once however often its event is delivered', async () => {
    const { jobs, uploads, handle } = setup();
    const event = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);
    const first = await handle(event);
    const second = await handle(event);
    expect(first).toMatchObject({ action: 'rejected', created: true });
    expect(second).toMatchObject({ action: 'existing', status: 'FAILED' });
    expect(jobs.items.size).toBe(1);
    expect(jobs.writes).toEqual([`create:${first.action === 'rejected' ? first.jobId : ''}`]);
  });
});

describe('duplicate events', () => {
  it('start one job, and the repeat reads nothing from S3 beyond the HEAD', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const event = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);

    const outcomes = [await handle(event), await handle(structuredClone(event)), await handle(event)];

    expect(outcomes.map((o) => o.action)).toEqual(['started', 'existing', 'existing']);
    expect(workflow.started).toHaveLength(1);
    expect(jobs.items.size).toBe(1);
    expect(uploads.presigned).toHaveLength(1);
    expect(uploads.calls.filter((c) => c.startsWith('read:'))).toHaveLength(1);
  });

  it('running at the same time still start one job', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const event = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);
    const outcomes = await Promise.all([handle(event), handle(event), handle(event)]);
    expect(outcomes.filter((o) => o.action === 'started')).toHaveLength(1);
    expect(workflow.started).toHaveLength(1);
    expect(jobs.items.size).toBe(1);
  });

  it('restart a job whose record was created but whose execution never started', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a new prompt' }));
    const event = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);
    const jobId = jobIdFromS3Object({
      bucket: BUCKET,
      key: 'uploads/cat.png',
      etag: event.detail.object.etag,
    });
    jobs.put(pendingJob(jobId, { source: 'upload' }));

    const outcome = await handle(event);

    expect(outcome).toMatchObject({ action: 'existing', jobId, status: 'PENDING' });
    // The stored request, not one built anew: a repeat hands the execution the same input.
    expect(workflow.started).toEqual([{ jobId, request: pendingJob(jobId).request }]);
  });

  it('end as FAILED, not PENDING, when the workflow cannot start', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    workflow.failWith = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const outcome = await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));
    expect(outcome).toMatchObject({ action: 'start-failed' });
    if (outcome.action !== 'start-failed') return;
    expect(jobs.peek(outcome.jobId)).toMatchObject({ status: 'FAILED', errorCode: 'WorkflowStartError' });
  });
});

describe('a sidecar event', () => {
  it('before its image starts nothing; the image then starts the job, and the sidecar event again adds nothing', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    const sidecarEvent = upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));

    expect(await handle(sidecarEvent)).toMatchObject({ action: 'skipped' });
    expect(jobs.items.size).toBe(0);

    const imageEvent = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);
    expect(await handle(imageEvent)).toMatchObject({ action: 'started' });
    expect(await handle(sidecarEvent)).toMatchObject({ action: 'existing', status: 'PENDING' });
    expect(workflow.started).toHaveLength(1);
  });

  it('processed before the image event starts the job under the image id; the image event then adds nothing', async () => {
    const { workflow, uploads, handle } = setup();
    const sidecarEvent = upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const imageEvent = upload(uploads, 'uploads/cat.png', IMAGE_BYTES);

    const viaSidecar = await handle(sidecarEvent);
    const viaImage = await handle(imageEvent);

    const jobId = jobIdFromS3Object({
      bucket: BUCKET,
      key: 'uploads/cat.png',
      etag: imageEvent.detail.object.etag,
    });
    expect(viaSidecar).toMatchObject({ action: 'started', jobId });
    expect(viaImage).toMatchObject({ action: 'existing', jobId });
    expect(workflow.started).toHaveLength(1);
  });

  it('after its image was rejected for want of a prompt starts the job, once, keeping the rejection as history', async () => {
    const { jobs, workflow, uploads, handle } = setup();
    const rejected = await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));
    expect(rejected).toMatchObject({ action: 'rejected', errorCode: 'MissingPromptError' });

    const sidecarEvent = upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const started = await handle(sidecarEvent);
    const repeated = await handle(sidecarEvent);

    expect(started).toMatchObject({ action: 'started' });
    expect(repeated).toMatchObject({ action: 'existing' });
    expect(workflow.started).toHaveLength(1);
    if (started.action !== 'started' || rejected.action !== 'rejected') return;
    expect(started.jobId).toBe(
      jobIdFromS3Object({
        bucket: BUCKET,
        key: 'uploads/cat.png.json',
        etag: sidecarEvent.detail.object.etag,
      }),
    );
    expect(jobs.peek(rejected.jobId)?.status).toBe('FAILED');
    expect(jobs.peek(started.jobId)?.request.prompt).toBe('a cat');
  });

  it('that fixes a bad sidecar starts the job', async () => {
    const { workflow, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat', duration: 7 }));
    expect(await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES))).toMatchObject({
      action: 'rejected',
      errorCode: 'InvalidSidecarError',
    });
    const fixed = upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat', duration: 6 }));
    expect(await handle(fixed)).toMatchObject({ action: 'started' });
    expect(workflow.started.map((s) => s.request.duration)).toEqual([6]);
  });

  it('for an image whose job is under way or done starts nothing', async () => {
    const { workflow, uploads, handle } = setup();
    upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));
    const changed = upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a dog' }));
    expect(await handle(changed)).toMatchObject({ action: 'existing', status: 'PENDING' });
    expect(workflow.started).toHaveLength(1);
  });

  it('for a size rejection does not retry it: a sidecar cannot make an image smaller', async () => {
    const { workflow, uploads, handle } = setup({ policy: { maxImageBytes: 1024 } });
    await handle(upload(uploads, 'uploads/cat.png', new Uint8Array(4096)));
    const later = upload(uploads, 'uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    expect(await handle(later)).toMatchObject({ action: 'existing', status: 'FAILED' });
    expect(workflow.started).toEqual([]);
  });

  it('without an etag or version in the event reads them from the sidecar itself', async () => {
    const { workflow, uploads, handle } = setup();
    await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES));
    uploads.put('uploads/cat.png.json', sidecar({ prompt: 'a cat' }));
    const bare = objectCreated('uploads/cat.png.json');
    expect(await handle(bare)).toMatchObject({ action: 'started' });
    expect(await handle(bare)).toMatchObject({ action: 'existing' });
    expect(workflow.started).toHaveLength(1);
  });
});

describe('events with nothing to do', () => {
  it.each([
    ['outside the uploads prefix', 'elsewhere/cat.png', /not under the uploads prefix/],
    ['a folder marker', 'uploads/holiday/', /folder marker/],
    ['a .json that is no image sidecar', 'uploads/notes.json', /not the sidecar of an image/],
  ])('skip %s', async (_, key, reason) => {
    const { jobs, uploads, handle } = setup();
    uploads.put(key, '{}');
    const outcome = await handle(objectCreated(key, { etag: 'abc' }));
    expect(outcome).toMatchObject({ action: 'skipped' });
    if (outcome.action === 'skipped') expect(outcome.reason).toMatch(reason);
    expect(jobs.items.size).toBe(0);
  });

  it('skip an image deleted before its event was handled', async () => {
    const { jobs, uploads, handle } = setup();
    const event = upload(uploads, 'uploads/cat.png', IMAGE_BYTES, { prompt: 'a cat' });
    uploads.delete('uploads/cat.png');
    expect(await handle(event)).toMatchObject({ action: 'skipped', reason: 'the image no longer exists' });
    expect(jobs.items.size).toBe(0);
  });

  it('honour another prefix', async () => {
    const { uploads, handle } = setup({ policy: { prefix: 'inbox/' } });
    upload(uploads, 'inbox/cat.png.json', sidecar({ prompt: 'a cat' }));
    expect(await handle(upload(uploads, 'inbox/cat.png', IMAGE_BYTES))).toMatchObject({ action: 'started' });
    expect(await handle(upload(uploads, 'uploads/cat.png', IMAGE_BYTES))).toMatchObject({
      action: 'skipped',
    });
  });
});

describe('events that are not S3 "Object Created"', () => {
  it.each([
    ['an Object Deleted event', { ...objectCreated('uploads/cat.png'), 'detail-type': 'Object Deleted' }],
    ['an event without a key', { ...objectCreated('uploads/cat.png'), detail: { bucket: { name: BUCKET } } }],
    ['an S3 notification (Records)', { Records: [{ s3: { object: { key: 'uploads/cat.png' } } }] }],
    ['nothing', undefined],
  ])('throw InvalidUploadEventError for %s', async (_, event) => {
    const { handle } = setup();
    await expect(handle(event)).rejects.toBeInstanceOf(InvalidUploadEventError);
  });
});

describe('the key patterns of the rule', () => {
  it('are EventBridge wildcards for images in either case and .json, under the prefix', () => {
    expect(uploadKeyPatterns('uploads/')).toEqual([
      'uploads/*.jpg',
      'uploads/*.JPG',
      'uploads/*.jpeg',
      'uploads/*.JPEG',
      'uploads/*.png',
      'uploads/*.PNG',
      'uploads/*.webp',
      'uploads/*.WEBP',
      'uploads/*.json',
    ]);
  });

  it('match exactly the images, in lower or upper case, and the .json files under the prefix', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9 _.+-]{0,12}$/);
    const extension = fc.constantFrom(
      'jpg',
      'JPG',
      'jpeg',
      'JPEG',
      'png',
      'PNG',
      'webp',
      'WEBP',
      'json',
      'gif',
      'Png',
      'txt',
      '',
    );
    fc.assert(
      fc.property(
        fc.constantFrom('uploads/', 'other/', ''),
        segment,
        segment,
        extension,
        (prefix, dir, name, ext) => {
          const key = `${prefix}${dir}/${name}.${ext}`;
          const wanted =
            prefix === 'uploads/' &&
            ['jpg', 'JPG', 'jpeg', 'JPEG', 'png', 'PNG', 'webp', 'WEBP', 'json'].includes(ext);
          expect(matchesUploadKey(key, 'uploads/')).toBe(wanted);
        },
      ),
    );
  });

  it('escape a * in the prefix', () => {
    expect(uploadKeyPatterns('a*b/')[0]).toBe('a\\*b/*.jpg');
    expect(matchesUploadKey('a*b/cat.jpg', 'a*b/')).toBe(true);
    expect(matchesUploadKey('aXb/cat.jpg', 'a*b/')).toBe(false);
  });
});
