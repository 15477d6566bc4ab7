// Image URLs an attacker would send to make us (or our Segmind stand-in) reach inside the network: every
// spelling of loopback, private, link-local (metadata), unique-local and unspecified addresses, IPv4 and
// IPv6, credentials, plain http, and names that resolve inside. Shared by the unit and end-to-end tests.
import type { HostResolver } from '#adapters/url-guard';

export interface HostileUrl {
  url: string;
  /** What makes it hostile, as the test names it. */
  form: string;
}

/** Names the fake DNS below resolves, each to addresses that must be refused. */
const RESOLVES_INSIDE: Record<string, string[]> = {
  'loopback.attacker.example': ['127.0.0.1'],
  'metadata.attacker.example': ['169.254.169.254'],
  'v6-loopback.attacker.example': ['::1'],
  'mapped.attacker.example': ['::ffff:10.0.0.7'],
  'ula.attacker.example': ['fd00:ec2::254'],
  'mixed.attacker.example': ['93.184.216.34', '10.1.2.3'],
  '169.254.169.254.nip.example': ['169.254.169.254'],
};

/** Public names for the accepted cases. */
const RESOLVES_OUTSIDE: Record<string, string[]> = {
  'images.example.com': ['93.184.216.34'],
  'v6.images.example.com': ['2606:4700:4700::1111'],
};

/** A DNS for tests: the names above; anything else fails like NXDOMAIN. */
export const fakeDns: HostResolver = async (hostname) => {
  const addresses = RESOLVES_INSIDE[hostname] ?? RESOLVES_OUTSIDE[hostname];
  if (addresses === undefined) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  }
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

export const HOSTILE_URLS: readonly HostileUrl[] = [
  // metadata service
  { url: 'http://169.254.169.254/latest/meta-data/iam/', form: 'metadata over http' },
  { url: 'https://169.254.169.254/latest/meta-data/', form: 'metadata over https' },
  { url: 'https://169.254.170.2/v2/credentials', form: 'ECS task credentials' },
  { url: 'https://[fd00:ec2::254]/latest/meta-data/', form: 'metadata over IPv6 (unique local)' },
  { url: 'https://100.100.100.200/', form: 'Alibaba metadata (carrier-grade NAT)' },
  { url: 'https://168.63.129.16/', form: 'Azure wireserver' },
  { url: 'https://metadata.google.internal/computeMetadata/v1/', form: 'GCP metadata name' },
  // loopback, every spelling
  { url: 'http://127.0.0.1:9000/x.png', form: 'loopback over http with a port' },
  { url: 'https://127.0.0.1/x.png', form: 'loopback' },
  { url: 'https://127.1/x.png', form: 'loopback, short form' },
  { url: 'https://2130706433/x.png', form: 'loopback, decimal' },
  { url: 'https://0x7f.1/x.png', form: 'loopback, hex short form' },
  { url: 'https://0x7f000001/x.png', form: 'loopback, hex' },
  { url: 'https://017700000001/x.png', form: 'loopback, octal' },
  { url: 'https://0177.0.0.01/x.png', form: 'loopback, octal dotted' },
  { url: 'https://127.0.0.1./x.png', form: 'loopback, trailing dot' },
  { url: 'https://127.255.255.254/', form: 'loopback, top of 127/8' },
  { url: 'https://localhost/x.png', form: 'localhost' },
  { url: 'https://LOCALHOST./x.png', form: 'localhost, upper case and trailing dot' },
  { url: 'https://app.localhost/x.png', form: 'a .localhost name' },
  { url: 'https://[::1]/x.png', form: 'IPv6 loopback' },
  { url: 'https://[0:0:0:0:0:0:0:1]/x.png', form: 'IPv6 loopback, long form' },
  { url: 'https://[::ffff:127.0.0.1]/x.png', form: 'IPv4-mapped loopback, dotted' },
  { url: 'https://[::ffff:7f00:1]/x.png', form: 'IPv4-mapped loopback, hex' },
  { url: 'https://[::127.0.0.1]/x.png', form: 'IPv4-compatible loopback' },
  // unspecified
  { url: 'https://0.0.0.0/x.png', form: 'unspecified IPv4' },
  { url: 'https://0/x.png', form: 'unspecified IPv4, decimal' },
  { url: 'https://[::]/x.png', form: 'unspecified IPv6' },
  // private, link-local, unique local
  { url: 'https://10.0.0.1/x.png', form: 'private 10/8' },
  { url: 'https://172.16.5.4/x.png', form: 'private 172.16/12' },
  { url: 'https://192.168.1.1/x.png', form: 'private 192.168/16' },
  { url: 'https://0xc0a80101/x.png', form: 'private 192.168.1.1, hex' },
  { url: 'https://[::ffff:192.168.1.1]/x.png', form: 'IPv4-mapped private' },
  { url: 'https://[::ffff:169.254.169.254]/x.png', form: 'IPv4-mapped metadata' },
  { url: 'https://[64:ff9b::a9fe:a9fe]/x.png', form: 'NAT64 of the metadata address' },
  { url: 'https://[2002:a9fe:a9fe::]/x.png', form: '6to4 of the metadata address' },
  { url: 'https://[fe80::1]/x.png', form: 'IPv6 link-local' },
  { url: 'https://[fc00::1]/x.png', form: 'IPv6 unique local' },
  { url: 'https://[fec0::1]/x.png', form: 'IPv6 site-local' },
  { url: 'https://224.0.0.1/x.png', form: 'multicast' },
  { url: 'https://255.255.255.255/x.png', form: 'broadcast' },
  // credentials, scheme
  { url: 'https://user:pass@images.example.com/x.png', form: 'user and password' },
  { url: 'https://user@images.example.com/x.png', form: 'user only' },
  { url: 'https://:pass@images.example.com/x.png', form: 'password only' },
  { url: 'http://images.example.com/x.png', form: 'plain http to a public host' },
  { url: 'HTTP://IMAGES.EXAMPLE.COM/x.png', form: 'plain http, upper case' },
  { url: 'https://intranet/x.png', form: 'a single-label name' },
  // names that resolve inside
  { url: 'https://loopback.attacker.example/x.png', form: 'a name resolving to loopback' },
  { url: 'https://metadata.attacker.example/x.png', form: 'a name resolving to the metadata address' },
  { url: 'https://v6-loopback.attacker.example/x.png', form: 'a name resolving to ::1' },
  { url: 'https://mapped.attacker.example/x.png', form: 'a name resolving to IPv4-mapped private' },
  { url: 'https://ula.attacker.example/x.png', form: 'a name resolving to unique local' },
  { url: 'https://mixed.attacker.example/x.png', form: 'a name resolving to public and private' },
  { url: 'https://169.254.169.254.nip.example./x.png', form: 'a wildcard-DNS name, trailing dot' },
  { url: 'https://does-not-resolve.example/x.png', form: 'a name that does not resolve' },
];

/** What must still be accepted. */
export const PUBLIC_URLS: readonly string[] = [
  'https://images.example.com/cat.png',
  'https://IMAGES.example.com./cat.png?size=large',
  'https://v6.images.example.com/cat.png',
  'https://93.184.216.34/cat.png',
  'https://[2606:4700:4700::1111]/cat.png',
  'https://[::ffff:93.184.216.34]/cat.png',
];
