// An image dropped under the uploads prefix becomes an image-to-video job. S3 tells us through
// EventBridge ("Object Created", at least once); the prompt comes from a sidecar `<image>.json` or the
// image's own metadata, and the image reaches Segmind as a presigned GET URL. The job id derives from the
// object's identity, so a repeated event starts nothing, and a request we cannot run is recorded as a
// FAILED job that says why, never dropped.
//
// Sidecar after image: the sidecar's own event re-evaluates its image. If the image has no job yet, the
// job starts under the image's id. If the image's job was rejected for want of a usable prompt (no
// sidecar yet, or a bad one), that record stays as history and the new sidecar starts a job under the
// sidecar's own id — so each sidecar version is tried once. Any other existing job is left alone.
import * as z from 'zod';
import { fieldErrorsOf } from '#domain/api-schemas';
import { jobIdFromS3Object } from '#domain/job-id';
import { uploadOwner } from '#domain/job-owner';
import type { JobStore } from '#domain/job-store';
import { startJob, type VideoWorkflow, WorkflowStartError } from '#domain/start-job';
import type { JobStatus, VideoJob } from '#domain/video-job';
import { type VideoRequest, videoRequestSchema } from '#domain/video-request';

// ---- what the pipeline accepts ----

export const DEFAULT_UPLOADS_PREFIX = 'uploads/';
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp'] as const;
export const SIDECAR_SUFFIX = '.json';
/** Segmind documents no limit; large first frames only slow the fetch. Configurable per deployment. */
export const DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** A request is a few fields and a prompt of at most 5000 characters: anything bigger is not a sidecar. */
export const MAX_SIDECAR_BYTES = 64 * 1024;
/** Segmind fetches the image while the job runs (minutes); an hour leaves room for a long queue. */
export const DEFAULT_IMAGE_URL_TTL_SECONDS = 3600;

/** What a sidecar (or the metadata) may say: the one request schema, minus the image we supply. */
export const uploadRequestSchema = videoRequestSchema.omit({ imageUrl: true });
const REQUEST_FIELDS = Object.keys(uploadRequestSchema.shape);

/** `x-amz-meta-<name>` → request field. S3 returns user metadata names lower-cased, without the prefix. */
export const METADATA_FIELDS = {
  prompt: 'prompt',
  duration: 'duration',
  resolution: 'resolution',
  'generate-audio': 'generateAudio',
} as const;

export interface UploadPolicy {
  /** Key prefix of the drop zone, ending in `/`. */
  prefix: string;
  maxImageBytes: number;
  imageUrlTtlSeconds: number;
}

export const DEFAULT_UPLOAD_POLICY: UploadPolicy = Object.freeze({
  prefix: DEFAULT_UPLOADS_PREFIX,
  maxImageBytes: DEFAULT_MAX_IMAGE_BYTES,
  imageUrlTtlSeconds: DEFAULT_IMAGE_URL_TTL_SECONDS,
});

/**
 * The object keys worth an event, as EventBridge wildcard patterns: images in lower or upper case
 * (`.jpg`, `.JPG`; EventBridge cannot AND a prefix with a case-insensitive suffix) and every `.json`.
 * The EventBridge rule and the local watcher both filter with these.
 */
export const uploadKeyPatterns = (prefix: string): string[] => {
  const escaped = prefix.replace(/[\\*]/g, (c) => `\\${c}`);
  return [
    ...IMAGE_EXTENSIONS.flatMap((ext) => [`${escaped}*.${ext}`, `${escaped}*.${ext.toUpperCase()}`]),
    `${escaped}*${SIDECAR_SUFFIX}`,
  ];
};

/** Whether a key matches one of the patterns the way EventBridge's `wildcard` matcher does. */
export const matchesUploadKey = (key: string, prefix: string): boolean =>
  uploadKeyPatterns(prefix).some((pattern) => wildcardRegExp(pattern).test(key));

const wildcardRegExp = (pattern: string): RegExp => {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] ?? '';
    if (c === '\\' && i + 1 < pattern.length) {
      i += 1;
      source += (pattern[i] ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
};

// ---- the event ----

/** S3's EventBridge "Object Created" event: the fields this use case reads (the others pass through). */
export const objectCreatedEventSchema = z.looseObject({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: z.looseObject({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      etag: z.string().optional(),
      'version-id': z.string().optional(),
      sequencer: z.string().optional(),
    }),
    reason: z.string().optional(),
  }),
});
export type ObjectCreatedEvent = z.input<typeof objectCreatedEventSchema>;

/** The event is not S3's "Object Created": a wiring bug (the rule's pattern), not a user's upload. */
export class InvalidUploadEventError extends Error {
  override readonly name = 'InvalidUploadEventError';
}

export interface ObjectLocation {
  bucket: string;
  key: string;
  versionId?: string | undefined;
}

/** What a HEAD tells us. `metadata` holds user metadata by lower-case name without `x-amz-meta-`. */
export interface ObjectHead {
  size: number;
  etag?: string | undefined;
  versionId?: string | undefined;
  metadata: Readonly<Record<string, string>>;
}

export type SidecarRead =
  | { kind: 'missing' }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'text'; text: string };

/** The S3 side of an upload (#adapters/upload-objects). */
export interface UploadObjects {
  /** undefined when the object (or that version) does not exist. */
  head(location: ObjectLocation): Promise<ObjectHead | undefined>;
  /** The current version's text, refusing anything over `maxBytes` without reading it. */
  readSidecar(location: ObjectLocation, maxBytes: number): Promise<SidecarRead>;
  /** A GET URL anyone holding it may use until it expires. */
  presignGet(location: ObjectLocation, ttlSeconds: number): Promise<string>;
}

export interface UploadJobPorts {
  jobs: Pick<JobStore, 'create' | 'get' | 'recordFailure'>;
  workflow: Pick<VideoWorkflow, 'start'>;
  objects: UploadObjects;
  now: () => Date;
}

// ---- what came of it ----

/** Why an upload cannot run, as the FAILED record's `errorCode`. */
export const UPLOAD_REJECTIONS = {
  missingPrompt: 'MissingPromptError',
  invalidSidecar: 'InvalidSidecarError',
  invalidMetadata: 'InvalidUploadMetadataError',
  unsupportedType: 'UnsupportedImageTypeError',
  tooLarge: 'ImageTooLargeError',
  empty: 'EmptyImageError',
} as const;
export type UploadRejectionCode = (typeof UPLOAD_REJECTIONS)[keyof typeof UPLOAD_REJECTIONS];

/** Rejections a (new) sidecar can cure: its arrival re-evaluates the image. */
const CURABLE_BY_SIDECAR: ReadonlySet<string> = new Set([
  UPLOAD_REJECTIONS.missingPrompt,
  UPLOAD_REJECTIONS.invalidSidecar,
  UPLOAD_REJECTIONS.invalidMetadata,
]);

export type UploadOutcome =
  /** A job was created and its workflow started. */
  | { action: 'started'; jobId: string; image: ObjectLocation }
  /** The job exists already (a repeated event, or a sidecar for an image that has its job): nothing new. */
  | { action: 'existing'; jobId: string; status: JobStatus }
  /** The upload cannot run; a FAILED record says why (`created` false when a repeat found it). */
  | { action: 'rejected'; jobId: string; errorCode: string; errorMessage: string; created: boolean }
  /** The job was created, but its workflow could not start; the record is FAILED (WorkflowStartError). */
  | { action: 'start-failed'; jobId: string; error: WorkflowStartError }
  /** Nothing to do, and nothing lost: e.g. a sidecar whose image is not there yet. */
  | { action: 'skipped'; reason: string; key: string };

// ---- the use case ----

const extensionOf = (key: string): string => {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
};

const isImageKey = (key: string): boolean =>
  (IMAGE_EXTENSIONS as readonly string[]).includes(extensionOf(key));

const s3Url = ({ bucket, key }: ObjectLocation): string => `s3://${bucket}/${key}`;

const present = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

/**
 * S3's classic notifications URL-encode keys (`my cat.png` → `my+cat.png`); EventBridge's are meant to be
 * raw. We try the key as given first and the form-decoded one only when that is missing, so both work.
 */
const formDecoded = (key: string): string | undefined => {
  try {
    const decoded = decodeURIComponent(key.replace(/\+/g, ' '));
    return decoded === key ? undefined : decoded;
  } catch {
    return undefined;
  }
};

const headEither = async (
  objects: UploadObjects,
  location: ObjectLocation,
): Promise<{ location: ObjectLocation; head: ObjectHead } | undefined> => {
  const head = await objects.head(location);
  if (head !== undefined) return { location, head };
  const decoded = formDecoded(location.key);
  if (decoded === undefined) return undefined;
  const other = { ...location, key: decoded };
  const found = await objects.head(other);
  return found === undefined ? undefined : { location: other, head: found };
};

const formatBytes = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;

class Rejection {
  constructor(
    readonly errorCode: UploadRejectionCode,
    readonly errorMessage: string,
  ) {}
}

/** zod's issues as one sentence, each naming its field as the uploader wrote it (`rename`). */
const problemsOf = (error: z.ZodError, input: unknown, rename: (field: string) => string): string =>
  fieldErrorsOf(error, input, { whole: 'sidecar', keyKind: 'field', knownKeys: REQUEST_FIELDS })
    .map(({ field, message }) => {
      if (field === 'sidecar') return message;
      const name = rename(field);
      return message.startsWith(field) ? message.replace(field, name) : `${name}: ${message}`;
    })
    .join('; ');

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`), which is how S3 returns non-ASCII metadata values. */
export const decodeMetadataValue = (value: string): string =>
  value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, encoding: string, text: string) =>
    encoding.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text
            .replace(/_/g, ' ')
            .replace(/=([0-9a-f]{2})/gi, (__, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );

const metadataValue = (raw: string, field: string): unknown => {
  const value = raw.trim();
  if (field === 'duration' && /^\d{1,6}$/.test(value)) return Number(value);
  if (field === 'generateAudio') {
    if (/^true$/i.test(value)) return true;
    if (/^false$/i.test(value)) return false;
  }
  return value;
};

/** The request from the sidecar's JSON. */
const requestFromSidecar = (text: string, sidecar: string): Omit<VideoRequest, 'imageUrl'> | Rejection => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return new Rejection(
      UPLOAD_REJECTIONS.invalidSidecar,
      `Sidecar ${sidecar} is not valid JSON (${error instanceof Error ? error.message : String(error)}); ` +
        'expected an object such as {"prompt": "a cat surfing a wave", "duration": 8}',
    );
  }
  const parsed = uploadRequestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return new Rejection(
    UPLOAD_REJECTIONS.invalidSidecar,
    `Sidecar ${sidecar} is not a valid request: ${problemsOf(parsed.error, raw, (field) => field)}`,
  );
};

/** The request from `x-amz-meta-*`, or a MissingPrompt rejection when there is no prompt at all. */
const requestFromMetadata = (
  metadata: Readonly<Record<string, string>>,
  image: string,
  sidecar: string,
): Omit<VideoRequest, 'imageUrl'> | Rejection => {
  const raw: Record<string, unknown> = {};
  const headerOf: Record<string, string> = {};
  for (const [name, field] of Object.entries(METADATA_FIELDS)) {
    const value = metadata[name];
    if (value === undefined) continue;
    raw[field] = metadataValue(decodeMetadataValue(value), field);
    headerOf[field] = `x-amz-meta-${name}`;
  }
  if (raw.prompt === undefined) {
    return new Rejection(
      UPLOAD_REJECTIONS.missingPrompt,
      `No prompt for ${image}: upload a sidecar ${sidecar} such as {"prompt": "a cat surfing a wave"} ` +
        '(uploading it now starts the job), or upload the image again with x-amz-meta-prompt set',
    );
  }
  const parsed = uploadRequestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return new Rejection(
    UPLOAD_REJECTIONS.invalidMetadata,
    `The metadata of ${image} is not a valid request: ` +
      problemsOf(parsed.error, raw, (field) => headerOf[field] ?? field),
  );
};

interface Evaluation {
  jobId: string;
  image: ObjectLocation;
  head: ObjectHead;
}

/** Records the rejection as the job's FAILED record, once: a repeat finds the record and writes nothing. */
const reject = async (
  ports: UploadJobPorts,
  { jobId, bucket }: { jobId: string; bucket: string },
  rejection: Rejection,
): Promise<UploadOutcome> => {
  const at = ports.now().toISOString();
  const record: VideoJob = {
    jobId,
    status: 'FAILED',
    source: 'upload',
    owner: uploadOwner(bucket),
    // There is no valid request to keep: the defaults with an empty prompt, never sent anywhere.
    request: { prompt: '', duration: 8, resolution: '2k', generateAudio: true },
    createdAt: at,
    updatedAt: at,
    failedAt: at,
    errorCode: rejection.errorCode,
    errorMessage: rejection.errorMessage,
  };
  const { created, job } = await ports.jobs.create(record);
  if (!created && job.status !== 'FAILED') return { action: 'existing', jobId, status: job.status };
  return {
    action: 'rejected',
    jobId,
    errorCode: job.errorCode ?? rejection.errorCode,
    errorMessage: job.errorMessage ?? rejection.errorMessage,
    created,
  };
};

const start = async (
  ports: UploadJobPorts,
  evaluation: Evaluation,
  request: VideoRequest,
): Promise<UploadOutcome> => {
  try {
    const { job, created } = await startJob(ports, {
      jobId: evaluation.jobId,
      source: 'upload',
      owner: uploadOwner(evaluation.image.bucket),
      request,
    });
    return created
      ? { action: 'started', jobId: job.jobId, image: evaluation.image }
      : { action: 'existing', jobId: job.jobId, status: job.status };
  } catch (error) {
    if (error instanceof WorkflowStartError)
      return { action: 'start-failed', jobId: evaluation.jobId, error };
    throw error;
  }
};

/** Turns one image (at one version) into its job, or into a FAILED record that says why not. */
const evaluateImage = async (
  ports: UploadJobPorts,
  policy: UploadPolicy,
  evaluation: Evaluation,
): Promise<UploadOutcome> => {
  const { jobId, image, head } = evaluation;
  const existing = await ports.jobs.get(jobId);
  if (existing !== undefined) {
    // PENDING: an earlier attempt died between the record and StartExecution. startJob starts it with the
    // stored request; the execution name keeps that from running twice.
    if (existing.status === 'PENDING') return start(ports, evaluation, existing.request);
    return { action: 'existing', jobId, status: existing.status };
  }

  const where = s3Url(image);
  if (!isImageKey(image.key)) {
    return reject(
      ports,
      { jobId, bucket: image.bucket },
      new Rejection(
        UPLOAD_REJECTIONS.unsupportedType,
        `${where} is not a supported image: use .${IMAGE_EXTENSIONS.join(', .')}`,
      ),
    );
  }
  if (head.size === 0) {
    return reject(
      ports,
      { jobId, bucket: image.bucket },
      new Rejection(UPLOAD_REJECTIONS.empty, `${where} is empty (0 bytes)`),
    );
  }
  if (head.size > policy.maxImageBytes) {
    return reject(
      ports,
      { jobId, bucket: image.bucket },
      new Rejection(
        UPLOAD_REJECTIONS.tooLarge,
        `${where} is ${formatBytes(head.size)}; images may be at most ${formatBytes(policy.maxImageBytes)}`,
      ),
    );
  }

  const sidecarLocation = { bucket: image.bucket, key: `${image.key}${SIDECAR_SUFFIX}` };
  const sidecarUrl = s3Url(sidecarLocation);
  const sidecar = await ports.objects.readSidecar(sidecarLocation, MAX_SIDECAR_BYTES);
  const fields =
    sidecar.kind === 'text'
      ? requestFromSidecar(sidecar.text, sidecarUrl)
      : sidecar.kind === 'too-large'
        ? new Rejection(
            UPLOAD_REJECTIONS.invalidSidecar,
            `Sidecar ${sidecarUrl} is ${formatBytes(sidecar.bytes)}; a sidecar may be at most ${formatBytes(MAX_SIDECAR_BYTES)}`,
          )
        : requestFromMetadata(head.metadata, where, sidecarUrl);
  if (fields instanceof Rejection) return reject(ports, { jobId, bucket: image.bucket }, fields);

  // Pinned to the version that raised the event: a later overwrite cannot change what Segmind sees.
  const imageUrl = await ports.objects.presignGet(
    { ...image, versionId: head.versionId ?? image.versionId },
    policy.imageUrlTtlSeconds,
  );
  return start(ports, evaluation, videoRequestSchema.parse({ ...fields, imageUrl }));
};

const identityOf = (
  location: ObjectLocation,
  head: { etag?: string | undefined; versionId?: string | undefined },
) => ({
  bucket: location.bucket,
  key: location.key,
  versionId: present(head.versionId),
  etag: present(head.etag),
});

/**
 * Handles one S3 "Object Created" event from EventBridge. Throws only for what a retry may cure (S3,
 * DynamoDB or Step Functions unavailable) and for events that are not S3's (InvalidUploadEventError).
 */
export const handleUploadEvent = async (
  ports: UploadJobPorts,
  policy: UploadPolicy,
  rawEvent: unknown,
): Promise<UploadOutcome> => {
  const parsed = objectCreatedEventSchema.safeParse(rawEvent);
  if (!parsed.success) {
    throw new InvalidUploadEventError(`Not an S3 "Object Created" event: ${parsed.error.message}`);
  }
  const { bucket, object } = parsed.data.detail;
  const key = object.key;
  if (!key.startsWith(policy.prefix)) {
    return { action: 'skipped', reason: `not under the uploads prefix ${policy.prefix}`, key };
  }
  if (key.endsWith('/')) return { action: 'skipped', reason: 'a folder marker, not an object', key };
  const eventVersion = present(object['version-id']);

  if (!key.endsWith(SIDECAR_SUFFIX)) {
    const found = await headEither(ports.objects, { bucket: bucket.name, key, versionId: eventVersion });
    if (found === undefined) {
      // Deleted before we got to it (or that version was): there is no image to animate.
      return { action: 'skipped', reason: 'the image no longer exists', key };
    }
    const identity = identityOf(found.location, {
      versionId: eventVersion ?? found.head.versionId,
      etag: present(object.etag) ?? found.head.etag,
    });
    return evaluateImage(ports, policy, {
      jobId: jobIdFromS3Object(identity),
      image: { ...found.location, versionId: identity.versionId },
      head: found.head,
    });
  }

  // A sidecar: re-evaluate its image (the current version), if there is one.
  const imageKey = key.slice(0, -SIDECAR_SUFFIX.length);
  if (!isImageKey(imageKey)) {
    return { action: 'skipped', reason: 'a .json that is not the sidecar of an image', key };
  }
  const found = await headEither(ports.objects, { bucket: bucket.name, key: imageKey });
  if (found === undefined) {
    return {
      action: 'skipped',
      reason: "the sidecar's image is not uploaded yet; its own event starts the job",
      key,
    };
  }
  const imageJobId = jobIdFromS3Object(identityOf(found.location, found.head));
  const image = { ...found.location, versionId: present(found.head.versionId) };
  const existing = await ports.jobs.get(imageJobId);
  if (existing === undefined || existing.status === 'PENDING') {
    return evaluateImage(ports, policy, { jobId: imageJobId, image, head: found.head });
  }
  if (existing.status === 'FAILED' && CURABLE_BY_SIDECAR.has(existing.errorCode ?? '')) {
    // The rejected record stays as it is (terminal records are never rewritten); this sidecar version
    // gets its own job, so a repeated event of it starts nothing more.
    let sidecar = { versionId: eventVersion, etag: present(object.etag) };
    if (sidecar.versionId === undefined && sidecar.etag === undefined) {
      // Some events (a local copy) carry neither: the sidecar's HEAD names its version.
      const head = await ports.objects.head({ bucket: bucket.name, key });
      if (head === undefined) return { action: 'skipped', reason: 'the sidecar no longer exists', key };
      sidecar = { versionId: present(head.versionId), etag: present(head.etag) };
    }
    const sidecarJobId = jobIdFromS3Object(identityOf({ bucket: bucket.name, key }, sidecar));
    return evaluateImage(ports, policy, { jobId: sidecarJobId, image, head: found.head });
  }
  return { action: 'existing', jobId: imageJobId, status: existing.status };
};
