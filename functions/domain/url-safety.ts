// The one rule for URLs we accept or fetch (image URLs at the API, video URLs at download): https to a
// public host, no credentials. Pure and synchronous: syntax and literal addresses here; the I/O half
// (DNS, and connecting only to the checked address) is #adapters/url-guard.
import ipaddr from 'ipaddr.js';

export interface UrlPolicy {
  /**
   * `host:port` pairs (lower case, IPv6 in brackets, no trailing dot) that pass whatever they are or
   * resolve to, even over plain http: the local stack's own servers (s3rver, the Segmind emulator), a
   * Segmind proxy. Empty on AWS unless configured.
   */
  allowedHosts: ReadonlySet<string>;
}

export const NO_ALLOWED_HOSTS: UrlPolicy = Object.freeze({ allowedHosts: new Set<string>() });

/** A URL the rule accepts: where it points and, for a literal address, the address itself. */
export interface AcceptedUrl {
  ok: true;
  url: URL;
  /** The hostname as the resolver and the socket want it: brackets and a trailing dot removed. */
  hostname: string;
  /** True when the host passed because it is on the allow list, not because it is public. */
  allowListed: boolean;
  /** Set when the host is an IP address (after the URL parser's normalisation of 0x7f.1, 2130706433, …). */
  literal?: { address: string; family: 4 | 6 };
}

export type UrlVerdict = AcceptedUrl | { ok: false; reason: string };

// ipaddr.js names every special-purpose range (RFC 6890 and successors); a video CDN or an image host
// lives in none of them. Its 'unicast' still covers two we refuse:
const ALSO_REFUSED = [
  // IPv4-compatible IPv6 (deprecated, RFC 4291): ::a.b.c.d routes to a.b.c.d on some stacks.
  ipaddr.parseCIDR('::/96'),
  // Azure's host endpoint (wireserver): public-looking, but a metadata service.
  ipaddr.parseCIDR('168.63.129.16/32'),
];

/** The IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address is translated to. */
const translatedIpv4 = (address: ipaddr.IPv6): ipaddr.IPv4 | undefined => {
  const bytes = address.toByteArray();
  const range = address.range();
  if (range === 'rfc6052' && address.match(ipaddr.parseCIDR('64:ff9b::/96'))) {
    return ipaddr.fromByteArray(bytes.slice(12, 16)) as ipaddr.IPv4;
  }
  if (range === '6to4') return ipaddr.fromByteArray(bytes.slice(2, 6)) as ipaddr.IPv4;
  return undefined;
};

/**
 * What kind of address this is, by ipaddr.js's names: `unicast` is the only public kind. IPv4-mapped
 * IPv6 is read as the IPv4 address it maps; NAT64 and 6to4 as the IPv4 address they reach.
 */
export const addressRange = (text: string): string => {
  const address = text.split('%')[0] ?? '';
  if (!ipaddr.isValid(address) || !(ipaddr.IPv4.isValidFourPartDecimal(address) || address.includes(':'))) {
    return 'invalid';
  }
  let parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv6') parsed = translatedIpv4(parsed as ipaddr.IPv6) ?? parsed;
  const range = parsed.range();
  if (range !== 'unicast') return range;
  const refused = ALSO_REFUSED.some(
    ([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits),
  );
  return refused ? 'reserved' : 'unicast';
};

/** True when the address is a globally routable unicast address (not private, loopback, metadata, …). */
export const isPublicAddress = (address: string): boolean => addressRange(address) === 'unicast';

/** Names that are local by definition (RFC 6761, cloud metadata), refused before any DNS lookup. */
const LOCAL_NAMES = new Set([
  'localhost',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data.ec2.internal',
]);
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa'];

const bareHostname = (url: URL): string =>
  url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();

const defaultPort = (url: URL): string => url.port || (url.protocol === 'https:' ? '443' : '80');

/** The allow-list key of a URL: `host:port`, IPv6 in brackets, the trailing dot dropped, default port filled. */
export const hostKeyOf = (url: URL): string => {
  const host = bareHostname(url);
  return `${host.includes(':') ? `[${host}]` : host}:${defaultPort(url)}`;
};

/**
 * Parses a `host:port,host:port` list into allow-list keys. A missing port is an error: an entry must
 * name one server, never a whole host. `label` names the setting in the message.
 */
export const parseHostList = (raw: string | undefined, label: string): ReadonlySet<string> => {
  const hosts = new Set<string>();
  for (const entry of (raw ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(trimmed);
    const port = Number(match?.[2]);
    let url: URL | undefined;
    try {
      url = match && port >= 1 && port <= 65535 ? new URL(`https://${match[1]}/`) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined) throw new Error(`${label}: "${trimmed}" is not a host:port pair`);
    const host = bareHostname(url);
    hosts.add(`${host.includes(':') ? `[${host}]` : host}:${port}`);
  }
  return hosts;
};

/** The allow-list key of an origin (`http://127.0.0.1:4010` → `127.0.0.1:4010`). */
export const hostKeyOfUrl = (url: string): string => hostKeyOf(new URL(url));

const describeRange = (range: string): string =>
  ({
    loopback: 'a loopback address',
    private: 'a private address',
    linkLocal: 'a link-local address (this includes the cloud metadata service)',
    uniqueLocal: 'a unique-local address',
    unspecified: 'the unspecified address',
    carrierGradeNat: 'a carrier-grade NAT address',
    broadcast: 'the broadcast address',
    multicast: 'a multicast address',
  })[range] ?? `a non-public address (${range})`;

/** What kind of non-public address this is (`a loopback address, 127.0.0.1`), or undefined when public. */
export const addressProblem = (address: string): string | undefined => {
  const range = addressRange(address);
  return range === 'unicast' ? undefined : `${describeRange(range)}, ${address}`;
};

/**
 * Checks a URL without any I/O: http(s) only, no user:password@, https unless the host is on the allow
 * list, and no local name or non-public literal address. A host name that passes still has to resolve to
 * public addresses only (see #adapters/url-guard). Reasons read after the field: "imageUrl <reason>".
 */
export const checkUrl = (input: string | URL, policy: UrlPolicy): UrlVerdict => {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, reason: 'must be an http(s) URL' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'must not carry a user name or password' };
  }
  const hostname = bareHostname(url);
  const literal: AcceptedUrl['literal'] = ipaddr.isValid(hostname)
    ? { address: hostname, family: hostname.includes(':') ? 6 : 4 }
    : undefined;
  if (policy.allowedHosts.has(hostKeyOf(url))) {
    return { ok: true, url, hostname, allowListed: true, ...(literal ? { literal } : {}) };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'must use https' };
  if (literal) {
    const problem = addressProblem(literal.address);
    if (problem !== undefined) return { ok: false, reason: `points to ${problem}` };
    return { ok: true, url, hostname, allowListed: false, literal };
  }
  if (
    LOCAL_NAMES.has(hostname) ||
    LOCAL_SUFFIXES.some((suffix) => hostname.endsWith(suffix)) ||
    // A single label (`metadata`, `intranet`) resolves through the search domains to a local host.
    !hostname.includes('.')
  ) {
    return { ok: false, reason: `names a local host (${hostname}), not a public one` };
  }
  return { ok: true, url, hostname, allowListed: false };
};
