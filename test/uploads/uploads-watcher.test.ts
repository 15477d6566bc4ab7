// The local stand-in for S3 → EventBridge: s3rver's notifications become the EventBridge events S3 sends.
import { describe, expect, it } from 'vitest';
import { objectCreatedEventSchema } from '#domain/upload-job';
import { localUploadCommands, toObjectCreatedEvents } from '#local/uploads-watcher';

/** What s3rver 3.7.1 emits (models/event.js), trimmed to the fields it always sets. */
const s3rverEvent = (eventName: string, object: Record<string, unknown>) => ({
  Records: [
    {
      eventVersion: '2.0',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2030-01-01T12:00:00.000Z',
      eventName,
      userIdentity: { principalId: 'AWS:ABC' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': 'REQ123', 'x-amz-id-2': 'id2' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'testConfigId',
        bucket: {
          name: 'local-uploads',
          ownerIdentity: { principalId: 'X' },
          arn: 'arn:aws:s3: : :local-uploads',
        },
        object: { key: 'uploads/my cat.png', sequencer: '18F0', ...object },
      },
    },
  ],
});

describe('toObjectCreatedEvents', () => {
  it('turns a Put into the EventBridge "Object Created" event S3 sends, key unencoded', () => {
    const [event, ...rest] = toObjectCreatedEvents(
      s3rverEvent('ObjectCreated:Put', { size: 12, eTag: 'd41d8cd98f00b204e9800998ecf8427e' }),
      { account: '123456789012', region: 'us-east-1' },
    );
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '123456789012',
      region: 'us-east-1',
      time: '2030-01-01T12:00:00.000Z',
      resources: ['arn:aws:s3:::local-uploads'],
      detail: {
        version: '0',
        bucket: { name: 'local-uploads' },
        object: {
          key: 'uploads/my cat.png',
          size: 12,
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          sequencer: '18F0',
        },
        'request-id': 'REQ123',
        'source-ip-address': '127.0.0.1',
        reason: 'PutObject',
      },
    });
    expect(objectCreatedEventSchema.safeParse(event).success).toBe(true);
  });

  it.each([
    ['ObjectCreated:Post', 'CompleteMultipartUpload'],
    ['ObjectCreated:Copy', 'CopyObject'],
  ])('names the reason of %s', (eventName, reason) => {
    const [event] = toObjectCreatedEvents(s3rverEvent(eventName, {}));
    expect(event?.detail.reason).toBe(reason);
    // A copy carries no ETag: the handler reads it with a HEAD.
    expect(event?.detail.object.etag).toBeUndefined();
  });

  it('ignores deletes and anything that is not an S3 notification', () => {
    expect(toObjectCreatedEvents(s3rverEvent('ObjectRemoved:Delete', {}))).toEqual([]);
    expect(toObjectCreatedEvents({ hello: 'world' })).toEqual([]);
    expect(toObjectCreatedEvents(undefined)).toEqual([]);
  });
});

describe('localUploadCommands', () => {
  it('upload the sidecar first, to the local endpoint, with the dummy credentials and checksums off', () => {
    const lines = localUploadCommands('http://127.0.0.1:4569', 'local-uploads', 'uploads/');
    const text = lines.join('\n');
    expect(text).toContain('AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER');
    expect(text).toContain('AWS_REQUEST_CHECKSUM_CALCULATION=when_required');
    const sidecar = lines.findIndex((l) =>
      l.includes('cp cat.png.json s3://local-uploads/uploads/cat.png.json'),
    );
    const image = lines.findIndex((l) => l.includes('cp cat.png s3://local-uploads/uploads/cat.png'));
    expect(sidecar).toBeGreaterThan(-1);
    expect(image).toBeGreaterThan(sidecar);
    expect(lines[image]).toContain('--endpoint-url http://127.0.0.1:4569');
  });
});
