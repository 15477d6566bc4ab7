// Download links for finished videos: presigned S3 GET URLs that expire soon, so a link that leaks (a
// log, a chat) stops working on its own. Presigning is local signing with the function's credentials —
// no call to S3 — and the link works only while that role may read the object.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Client } from '#commons/aws-clients';
import { ConfigError } from '#commons/config';
import { ENV } from '#commons/env';
import type { StoredVideo } from '#domain/video-job';

export const DEFAULT_VIDEO_LINK_TTL_SECONDS = 900;
/** SigV4 caps presigned URLs at 7 days; an hour keeps "short" honest. */
export const MAX_VIDEO_LINK_TTL_SECONDS = 3600;

export interface VideoLink {
  url: string;
  /** ISO-8601: when the URL stops working. */
  expiresAt: string;
}

export interface VideoLinks {
  downloadLink(video: Pick<StoredVideo, 'bucket' | 'key'>, fileName: string): Promise<VideoLink>;
}

export const parseVideoLinkTtl = (env: Readonly<Record<string, string | undefined>>): number => {
  const raw = env[ENV.videoLinkTtlSeconds]?.trim();
  if (!raw) return DEFAULT_VIDEO_LINK_TTL_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_VIDEO_LINK_TTL_SECONDS) {
    throw new ConfigError(
      `${ENV.videoLinkTtlSeconds} must be a whole number of seconds from 1 to ${MAX_VIDEO_LINK_TTL_SECONDS}, got "${raw}"`,
    );
  }
  return seconds;
};

export class PresignedVideoLinks implements VideoLinks {
  readonly #client: S3Client;
  readonly #ttlSeconds: number;
  readonly #now: () => Date;

  constructor(client: S3Client, ttlSeconds: number, now: () => Date = () => new Date()) {
    this.#client = client;
    this.#ttlSeconds = ttlSeconds;
    this.#now = now;
  }

  async downloadLink(video: Pick<StoredVideo, 'bucket' | 'key'>, fileName: string): Promise<VideoLink> {
    const signedAt = this.#now();
    const url = await getSignedUrl(
      this.#client,
      new GetObjectCommand({
        Bucket: video.bucket,
        Key: video.key,
        // A browser or `curl -OJ` saves it under a meaningful name instead of the S3 key.
        ResponseContentDisposition: `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`,
      }),
      { expiresIn: this.#ttlSeconds, signingDate: signedAt },
    );
    return { url, expiresAt: new Date(signedAt.getTime() + this.#ttlSeconds * 1000).toISOString() };
  }
}

export interface VideoLinksOptions {
  client?: S3Client;
  ttlSeconds?: number;
}

/** The links the Lambdas use: the shared per-container S3 client and the TTL from VIDEO_LINK_TTL_SECONDS. */
export const createVideoLinks = (options: VideoLinksOptions = {}): VideoLinks =>
  new PresignedVideoLinks(options.client ?? s3Client(), options.ttlSeconds ?? parseVideoLinkTtl(process.env));
