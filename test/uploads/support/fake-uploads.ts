// An in-memory uploads bucket behind the UploadObjects port, a workflow that records its starts, and a
// builder of S3's EventBridge "Object Created" events — for the upload use case's tests.
import type { VideoWorkflow } from '#domain/start-job';
import type {
  ObjectCreatedEvent,
  ObjectHead,
  ObjectLocation,
  SidecarRead,
  UploadObjects,
} from '#domain/upload-job';
import type { VideoJobInput } from '#domain/video-job';

export const BUCKET = 'my-uploads';

interface StoredObject {
  body: Uint8Array;
  etag: string;
  versionId?: string;
  metadata: Record<string, string>;
}

/** Objects by key; with `versioned`, every put is a new version and old ones stay readable by id. */
export class FakeUploads implements UploadObjects {
  readonly #current = new Map<string, StoredObject>();
  readonly #versions = new Map<string, StoredObject>();
  readonly calls: string[] = [];
  readonly presigned: { location: ObjectLocation; ttlSeconds: number }[] = [];
  #next = 0;

  constructor(readonly versioned = false) {}

  put(key: string, body: string | Uint8Array, metadata: Record<string, string> = {}): StoredObject {
    this.#next += 1;
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const object: StoredObject = {
      body: bytes,
      etag: `"etag-${this.#next}"`,
      ...(this.versioned ? { versionId: `v${this.#next}` } : {}),
      metadata,
    };
    this.#current.set(key, object);
    if (object.versionId) this.#versions.set(`${key}#${object.versionId}`, object);
    return object;
  }

  delete(key: string): void {
    this.#current.delete(key);
  }

  #find(location: ObjectLocation): StoredObject | undefined {
    return location.versionId === undefined
      ? this.#current.get(location.key)
      : this.#versions.get(`${location.key}#${location.versionId}`);
  }

  async head(location: ObjectLocation): Promise<ObjectHead | undefined> {
    this.calls.push(`head:${location.key}`);
    const object = this.#find(location);
    if (object === undefined) return undefined;
    return {
      size: object.body.length,
      etag: object.etag,
      versionId: object.versionId,
      metadata: { ...object.metadata },
    };
  }

  async readSidecar(location: ObjectLocation, maxBytes: number): Promise<SidecarRead> {
    this.calls.push(`read:${location.key}`);
    const object = this.#find(location);
    if (object === undefined) return { kind: 'missing' };
    if (object.body.length > maxBytes) return { kind: 'too-large', bytes: object.body.length };
    return { kind: 'text', text: new TextDecoder().decode(object.body) };
  }

  async presignGet(location: ObjectLocation, ttlSeconds: number): Promise<string> {
    this.presigned.push({ location, ttlSeconds });
    const version = location.versionId === undefined ? '' : `&versionId=${location.versionId}`;
    return `https://${location.bucket}.s3.amazonaws.com/${encodeURI(location.key)}?X-Amz-Expires=${ttlSeconds}${version}`;
  }
}

export class RecordingWorkflow implements Pick<VideoWorkflow, 'start'> {
  readonly started: VideoJobInput[] = [];
  readonly #names = new Set<string>();
  failWith: Error | undefined;

  async start(input: VideoJobInput): Promise<'started' | 'already-started'> {
    if (this.failWith) throw this.failWith;
    if (this.#names.has(input.jobId)) return 'already-started';
    this.#names.add(input.jobId);
    this.started.push(input);
    return 'started';
  }
}

/** The event S3 sends EventBridge for an object as it is now in `uploads` (or as given). */
export const objectCreated = (
  key: string,
  object: { size?: number; etag?: string; versionId?: string } = {},
  bucket = BUCKET,
): ObjectCreatedEvent => ({
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2030-01-01T12:00:00Z',
  region: 'eu-west-1',
  resources: [`arn:aws:s3:::${bucket}`],
  detail: {
    version: '0',
    bucket: { name: bucket },
    object: {
      key,
      ...(object.size === undefined ? {} : { size: object.size }),
      ...(object.etag === undefined ? {} : { etag: object.etag.replace(/"/g, '') }),
      ...(object.versionId === undefined ? {} : { 'version-id': object.versionId }),
      sequencer: '617f08299329d189',
    },
    'request-id': 'N4N7GDK58NMKJ12R',
    requester: '111122223333',
    reason: 'PutObject',
  },
});

/** Puts an object and returns the event S3 would send for it. */
export const upload = (
  uploads: FakeUploads,
  key: string,
  body: string | Uint8Array,
  metadata: Record<string, string> = {},
): ObjectCreatedEvent => {
  const object = uploads.put(key, body, metadata);
  return objectCreated(key, {
    size: object.body.length,
    etag: object.etag,
    ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
  });
};

/** A few bytes standing in for an image: the use case never decodes it. */
export const IMAGE_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
