import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VIDEO_LINK_TTL_SECONDS,
  PresignedVideoLinks,
  parseVideoLinkTtl,
} from '#adapters/video-links';
import { ConfigError } from '#commons/config';

const client = new S3Client({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
});
const NOW = new Date('2030-01-01T12:00:00.000Z');

describe('PresignedVideoLinks', () => {
  it('signs a GET of the stored object that expires after the configured time', async () => {
    const links = new PresignedVideoLinks(client, 600, () => NOW);

    const link = await links.downloadLink({ bucket: 'videos-bucket', key: 'videos/job-1.mp4' }, 'job-1.mp4');

    const url = new URL(link.url);
    expect(url.hostname).toBe('videos-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/videos/job-1.mp4');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20300101T120000Z');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('response-content-disposition')).toBe('attachment; filename="job-1.mp4"');
    expect(link.expiresAt).toBe('2030-01-01T12:10:00.000Z');
  });

  it('keeps quotes and line breaks out of the download file name', async () => {
    const links = new PresignedVideoLinks(client, 60, () => NOW);
    const link = await links.downloadLink({ bucket: 'b', key: 'k' }, 'a"b\r\n.mp4');
    expect(new URL(link.url).searchParams.get('response-content-disposition')).toBe(
      'attachment; filename="a_b__.mp4"',
    );
  });
});

describe('VIDEO_LINK_TTL_SECONDS', () => {
  it('defaults to a short expiry and accepts whole seconds up to an hour', () => {
    expect(parseVideoLinkTtl({})).toBe(DEFAULT_VIDEO_LINK_TTL_SECONDS);
    expect(DEFAULT_VIDEO_LINK_TTL_SECONDS).toBeLessThanOrEqual(900);
    expect(parseVideoLinkTtl({ VIDEO_LINK_TTL_SECONDS: '120' })).toBe(120);
  });

  it.each(['0', '-5', '1.5', 'ten', '3601'])('refuses %s at start-up', (value) => {
    expect(() => parseVideoLinkTtl({ VIDEO_LINK_TTL_SECONDS: value })).toThrow(ConfigError);
  });
});
