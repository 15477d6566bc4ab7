// The I/O half of the URL rule (#domain/url-safety): resolves a host and refuses it when any answer is not
// public, and hands the socket the address it checked (see video-download's `lookup`), so a DNS answer that
// changes between the check and the connect (DNS rebinding) cannot reach a private host.
import { lookup as dnsLookup } from 'node:dns/promises';
import { ENV } from '#commons/env';
import { UnsafeVideoUrlError, VideoTransferError } from '#domain/errors';
import { addressProblem, checkUrl, parseHostList, type UrlPolicy } from '#domain/url-safety';

export { isPublicAddress } from '#domain/url-safety';

/** Where the video download may go: the rule's policy (the Segmind origin and configured hosts). */
export type VideoUrlPolicy = UrlPolicy;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all of its addresses. Injected in tests; the system resolver otherwise. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface VettedTarget {
  url: URL;
  /** The address to connect to: the socket must use this one, never a fresh DNS answer. */
  address: string;
  family: 4 | 6;
  /** True when the host passed because it is on the policy's allow list, not because it is public. */
  allowListed: boolean;
}

/** Parses LTX_ALLOWED_VIDEO_HOSTS (`host:port,host:port`). A missing port is a configuration error. */
export const parseAllowedHosts = (raw: string | undefined): ReadonlySet<string> =>
  parseHostList(raw, ENV.allowedVideoHosts);

/** Bounds a lookup: getaddrinfo has no timeout of its own and a hung resolver must not hang a request. */
export const DNS_TIMEOUT_MS = 5_000;

export const systemResolver: HostResolver = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`DNS lookup of ${hostname} timed out`)), DNS_TIMEOUT_MS);
  });
  try {
    const answers = await Promise.race([dnsLookup(hostname, { all: true, verbatim: true }), timeout]);
    return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
  } finally {
    clearTimeout(timer);
  }
};

/** What vetting found: the target to connect to, or why the URL may not be fetched. */
export type Vetting =
  | { ok: true; target: VettedTarget }
  | { ok: false; kind: 'unsafe' | 'unresolvable'; reason: string; cause?: unknown };

/**
 * Applies the rule, then resolves a host name and requires every answer to be public (a name that also
 * resolves to a private address is hostile or broken). Allow-listed hosts skip the address check.
 */
export const vetUrl = async (
  input: string | URL,
  policy: UrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<Vetting> => {
  const verdict = checkUrl(input, policy);
  if (!verdict.ok) return { ok: false, kind: 'unsafe', reason: verdict.reason };
  const { url, hostname, allowListed, literal } = verdict;
  let addresses: ResolvedAddress[];
  if (literal) {
    addresses = [literal];
  } else {
    try {
      addresses = await resolve(hostname);
    } catch (cause) {
      return {
        ok: false,
        kind: 'unresolvable',
        reason: `names a host that does not resolve (${hostname})`,
        cause,
      };
    }
  }
  const [first] = addresses;
  if (!first)
    return { ok: false, kind: 'unresolvable', reason: `names a host without addresses (${hostname})` };
  if (!allowListed) {
    for (const { address } of addresses) {
      const problem = addressProblem(address);
      if (problem !== undefined) {
        return { ok: false, kind: 'unsafe', reason: `names ${hostname}, which resolves to ${problem}` };
      }
    }
  }
  return { ok: true, target: { url, address: first.address, family: first.family, allowListed } };
};

/**
 * Checks one video URL (the first or a redirect hop) and resolves the address to connect to. Throws
 * UnsafeVideoUrlError when the URL may not be fetched, VideoTransferError when DNS fails.
 */
export const vetVideoUrl = async (
  input: string | URL,
  policy: VideoUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<VettedTarget> => {
  const vetting = await vetUrl(input, policy, resolve);
  if (vetting.ok) return vetting.target;
  let shown = String(input);
  try {
    const url = new URL(input);
    shown = `${url.protocol}//${url.host}`;
  } catch {
    shown = 'the video URL';
  }
  const message = `Refusing to fetch the video from ${shown}: it ${vetting.reason}`;
  if (vetting.kind === 'unresolvable') throw new VideoTransferError(message, { cause: vetting.cause });
  throw new UnsafeVideoUrlError(message);
};
