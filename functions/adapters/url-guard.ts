// SSRF guard for the video URL: decides whether a URL may be fetched and which vetted address to connect to.
// The address is resolved once here and handed to the socket (see video-download's `lookup`), so a DNS
// answer that changes between the check and the connect (DNS rebinding) cannot reach a private host.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { UnsafeVideoUrlError, VideoTransferError } from '#domain/errors';

export interface VideoUrlPolicy {
  /**
   * `host:port` pairs (lower case, IPv6 in brackets) fetched even over plain http and whatever they
   * resolve to. Local stack only (the emulator on loopback); empty on AWS.
   */
  allowedHosts: ReadonlySet<string>;
}

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
export const parseAllowedHosts = (raw: string | undefined): ReadonlySet<string> => {
  const hosts = new Set<string>();
  for (const entry of (raw ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    let parsed: URL;
    try {
      parsed = new URL(`http://${trimmed}`);
    } catch (cause) {
      throw new Error(`allowed video host "${trimmed}" is not a host:port pair`, { cause });
    }
    if (parsed.port === '' || parsed.pathname !== '/' || parsed.username !== '') {
      throw new Error(`allowed video host "${trimmed}" must be exactly host:port`);
    }
    hosts.add(`${parsed.hostname}:${parsed.port}`);
  }
  return hosts;
};

// IANA special-purpose and non-public ranges. A video CDN never lives in any of them.
const IPV4_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (AWS/GCP/Azure metadata 169.254.169.254, ECS 169.254.170.2)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (Oracle metadata 192.0.0.192)
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
  ['168.63.129.16', 32], // Azure's host endpoint: public-looking, but a metadata service
];

const IPV6_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated); the mapped form ::ffff:0:0/96 is unwrapped instead
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, ...)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (AWS metadata over IPv6 is fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const blocked = new BlockList();
for (const [network, prefix] of IPV4_BLOCKED) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6_BLOCKED) blocked.addSubnet(network, prefix, 'ipv6');

/** Host names of metadata services, refused before any DNS lookup (they resolve to blocked ranges anyway). */
const BLOCKED_HOSTNAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** The 16 bytes of an IPv6 address (zone id ignored), or undefined when it is not one. */
const ipv6Bytes = (text: string): Uint8Array | undefined => {
  const address = text.split('%')[0] ?? '';
  if (!isIPv6(address)) return undefined;
  let groups = address;
  // A trailing dotted quad (::ffff:10.0.0.1) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (dotted?.[1]) {
    const octets = dotted[1].split('.').map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    groups = `${groups.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = groups.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(fill).fill('0'), ...tailParts];
  const bytes = new Uint8Array(16);
  parts.forEach((part, i) => {
    const value = Number.parseInt(part, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
};

const ipv4Of = (bytes: Uint8Array, offset: number): string =>
  Array.from(bytes.subarray(offset, offset + 4)).join('.');

const isZero = (bytes: Uint8Array, from: number, to: number): boolean =>
  bytes.subarray(from, to).every((b) => b === 0);

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one that a router would reach:
 * IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
 */
const embeddedIpv4 = (bytes: Uint8Array): string | undefined => {
  if (isZero(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return ipv4Of(bytes, 12);
  if (
    bytes[0] === 0x00 &&
    bytes[1] === 0x64 &&
    bytes[2] === 0xff &&
    bytes[3] === 0x9b &&
    isZero(bytes, 4, 12)
  ) {
    return ipv4Of(bytes, 12);
  }
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return ipv4Of(bytes, 2);
  return undefined;
};

/** True when the address is a globally routable unicast address (not private, loopback, metadata, ...). */
export const isPublicAddress = (address: string): boolean => {
  if (isIPv4(address)) return !blocked.check(address, 'ipv4');
  const bytes = ipv6Bytes(address);
  if (!bytes) return false;
  const v4 = embeddedIpv4(bytes);
  if (v4 !== undefined) return !blocked.check(v4, 'ipv4');
  return !blocked.check(address.split('%')[0] ?? '', 'ipv6');
};

const systemResolver: HostResolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

const defaultPort = (url: URL): string => url.port || (url.protocol === 'https:' ? '443' : '80');

/** `[::1]` in a URL's hostname is `::1` to the resolver and the socket. */
const bareHostname = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Checks one URL (the first or a redirect hop) and resolves the address to connect to. Throws
 * UnsafeVideoUrlError when the URL may not be fetched, VideoTransferError when DNS fails.
 */
export const vetVideoUrl = async (
  input: string | URL,
  policy: VideoUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<VettedTarget> => {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new UnsafeVideoUrlError('The video URL is not a valid URL', { cause });
  }
  const shown = `${url.protocol}//${url.host}`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UnsafeVideoUrlError(`Refusing to fetch the video from ${url.protocol} URLs`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UnsafeVideoUrlError(`Refusing a video URL with credentials (${shown})`);
  }
  const hostname = bareHostname(url);
  const allowListed = policy.allowedHosts.has(`${url.hostname}:${defaultPort(url)}`);
  if (!allowListed) {
    if (url.protocol !== 'https:') {
      throw new UnsafeVideoUrlError(`Refusing to fetch the video over plain http (${shown})`);
    }
    if (BLOCKED_HOSTNAMES.has(hostname.toLowerCase().replace(/\.$/, ''))) {
      throw new UnsafeVideoUrlError(`Refusing to fetch the video from ${shown}`);
    }
  }

  let addresses: ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal !== 0) {
    addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(hostname);
    } catch (cause) {
      throw new VideoTransferError(`Could not resolve the video host ${hostname}`, { cause });
    }
  }
  const [first] = addresses;
  if (!first) throw new VideoTransferError(`The video host ${hostname} has no address`);
  // Every answer must be public: a name that also resolves to a private address is hostile or broken.
  if (!allowListed) {
    const refused = addresses.find(({ address }) => !isPublicAddress(address));
    if (refused) {
      throw new UnsafeVideoUrlError(
        `Refusing to fetch the video from ${shown}: it resolves to ${refused.address}`,
      );
    }
  }
  return { url, address: first.address, family: first.family, allowListed };
};
