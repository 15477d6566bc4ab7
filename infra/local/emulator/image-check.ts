// Segmind downloads the first-frame image itself; an unreachable image (say, an expired presigned URL)
// fails the job. The emulator runs on the user's machine, so it must not become a way to reach it: it
// fetches only from the hosts it is told to (the local stack's s3rver, by host:port), each redirect hop
// checked by the same URL rule as the pipeline's and connected to the address that rule checked. Any
// other URL that passes the rule is trusted without a fetch (tests never leave the machine); one that
// fails it fails the job as Segmind would.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { type HostResolver, systemResolver, type VettedTarget, vetUrl } from '#adapters/url-guard';
import { checkUrl, type UrlPolicy } from '#domain/url-safety';

export interface ImageFetchPolicy extends UrlPolicy {
  /** Injected in tests; the system resolver otherwise. */
  resolve?: HostResolver;
  timeoutMs?: number;
  maxRedirects?: number;
}

const FAILED = 'Failed to download image from the given URL';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const pinnedLookup =
  (target: VettedTarget): LookupFunction =>
  (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };

const get = (target: VettedTarget, timeoutMs: number): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const client = target.url.protocol === 'https:' ? https : http;
    const request = client.request(target.url, {
      agent: false,
      lookup: pinnedLookup(target),
      family: target.family,
      signal: AbortSignal.timeout(timeoutMs),
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });

/** Resolves to an error message when the image cannot be fetched, or undefined when it can. */
export const checkImage = async (url: string, policy: ImageFetchPolicy): Promise<string | undefined> => {
  const first = checkUrl(url, policy);
  if (!first.ok) return `${FAILED}: the URL ${first.reason}`;
  if (!first.allowListed) return undefined;
  const timeoutMs = policy.timeoutMs ?? 10_000;
  const maxRedirects = policy.maxRedirects ?? 3;
  let current: string | URL = url;
  try {
    for (let hop = 0; ; hop += 1) {
      const vetting = await vetUrl(current, policy, policy.resolve ?? systemResolver);
      if (!vetting.ok)
        return `${FAILED}: ${hop === 0 ? 'the URL' : 'it redirected to a URL that'} ${vetting.reason}`;
      // Only the allowed hosts are ever fetched: a public URL we are redirected to is trusted, as above.
      if (!vetting.target.allowListed) return undefined;
      const response = await get(vetting.target, timeoutMs);
      const location = response.headers.location;
      if (REDIRECTS.has(response.statusCode ?? 0) && location !== undefined) {
        response.destroy();
        if (hop >= maxRedirects) return `${FAILED}: more than ${maxRedirects} redirects`;
        current = new URL(location, vetting.target.url);
        continue;
      }
      for await (const _ of response) {
        // Drain: Segmind reads the whole image.
      }
      const status = response.statusCode ?? 0;
      return status >= 200 && status < 300 ? undefined : `${FAILED}: HTTP ${status}`;
    }
  } catch (error) {
    return `${FAILED}: ${error instanceof Error ? error.message : String(error)}`;
  }
};
