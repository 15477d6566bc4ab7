import { describe, expect, it } from 'vitest';
import {
  type HostResolver,
  isPublicAddress,
  parseAllowedHosts,
  type VideoUrlPolicy,
  vetVideoUrl,
} from '#adapters/url-guard';
import { UnsafeVideoUrlError, VideoTransferError } from '#domain/errors';

const awsPolicy: VideoUrlPolicy = { allowedHosts: new Set() };

/** A fake DNS: host → addresses. Unknown hosts fail like ENOTFOUND. */
const dns =
  (table: Record<string, string[]>): HostResolver =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('isPublicAddress', () => {
  it.each([
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['10.0.0.1', 'private 10/8'],
    ['10.255.255.255', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.254', 'private 172.16/12'],
    ['192.168.1.1', 'private 192.168/16'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local / instance metadata'],
    ['169.254.170.2', 'ECS task metadata'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT'],
    ['100.100.100.200', 'Alibaba metadata (CGNAT)'],
    ['192.0.0.192', 'Oracle metadata'],
    ['168.63.129.16', 'Azure host endpoint'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'TEST-NET-1'],
    ['198.18.0.1', 'benchmarking'],
  ])('refuses IPv4 %s (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback, long form'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with zone'],
    ['febf:ffff::1', 'link-local upper end'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'AWS metadata over IPv6'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback, dotted'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::ffff:10.1.2.3', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'IPv4-mapped 192.168.1.1, long form'],
    ['64:ff9b::10.0.0.1', 'NAT64 of a private address'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of the metadata address'],
    ['2002:7f00:0001::1', '6to4 of loopback'],
    ['2002:a9fe:a9fe::', '6to4 of the metadata address'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
  ])('refuses IPv6 %s (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1', // just above 172.16/12
    '100.128.0.1', // just above CGNAT
    '169.255.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8', // a mapped public address is public
    '64:ff9b::808:808', // NAT64 of a public address
    '2002:0808:0808::1', // 6to4 of a public address
  ])('accepts public %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('refuses things that are not addresses', () => {
    expect(isPublicAddress('example.com')).toBe(false);
    expect(isPublicAddress('')).toBe(false);
  });
});

describe('parseAllowedHosts', () => {
  it('reads a comma-separated host:port list', () => {
    expect([...parseAllowedHosts(' 127.0.0.1:4010, localhost:9000,[::1]:81 ')]).toEqual([
      '127.0.0.1:4010',
      'localhost:9000',
      '[::1]:81',
    ]);
  });

  it('is empty when unset', () => {
    expect(parseAllowedHosts(undefined).size).toBe(0);
    expect(parseAllowedHosts('').size).toBe(0);
  });

  it('refuses an entry without a port, rather than allowing a whole host', () => {
    expect(() => parseAllowedHosts('127.0.0.1')).toThrow(/host:port/);
    expect(() => parseAllowedHosts('127.0.0.1:80/path')).toThrow(/host:port/);
  });
});

describe('vetVideoUrl on AWS (no allowed hosts)', () => {
  const resolve = dns({
    'cdn.example.com': ['93.184.216.34'],
    'v6.example.com': ['2606:4700:4700::1111'],
    'internal.example.com': ['10.0.0.5'],
    'mixed.example.com': ['93.184.216.34', '127.0.0.1'],
    'mapped.example.com': ['::ffff:169.254.169.254'],
  });

  it('accepts https to a host that resolves only to public addresses, and returns the address to use', async () => {
    const target = await vetVideoUrl('https://cdn.example.com/v/1.mp4', awsPolicy, resolve);
    expect(target).toMatchObject({ address: '93.184.216.34', family: 4, allowListed: false });
    expect(target.url.href).toBe('https://cdn.example.com/v/1.mp4');
    await expect(vetVideoUrl('https://v6.example.com/x.mp4', awsPolicy, resolve)).resolves.toMatchObject({
      address: '2606:4700:4700::1111',
      family: 6,
    });
  });

  it('refuses plain http, even to a public host', async () => {
    await expect(vetVideoUrl('http://cdn.example.com/v.mp4', awsPolicy, resolve)).rejects.toThrow(
      UnsafeVideoUrlError,
    );
  });

  it.each(['file:///etc/passwd', 'ftp://cdn.example.com/v.mp4', 'gopher://x/', 'not a url'])(
    'refuses %s',
    async (url) => {
      await expect(vetVideoUrl(url, awsPolicy, resolve)).rejects.toThrow(UnsafeVideoUrlError);
    },
  );

  it.each([
    'https://internal.example.com/v.mp4',
    'https://mixed.example.com/v.mp4',
    'https://mapped.example.com/v.mp4',
  ])('refuses %s, whose name resolves to a private address', async (url) => {
    await expect(vetVideoUrl(url, awsPolicy, resolve)).rejects.toThrow(/resolves to/);
  });

  it.each([
    'https://127.0.0.1/v.mp4',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::1]/v.mp4',
    'https://[::ffff:127.0.0.1]/v.mp4',
    'https://[fd00:ec2::254]/latest/meta-data/',
    'https://2130706433/v.mp4', // 127.0.0.1 as one decimal number
    'https://0x7f.1/v.mp4', // 127.0.0.1 in hex shorthand
    'https://10.1/v.mp4', // 10.0.0.1 shorthand
  ])('refuses the literal address in %s', async (url) => {
    await expect(vetVideoUrl(url, awsPolicy, resolve)).rejects.toThrow(UnsafeVideoUrlError);
  });

  it('refuses metadata host names without asking DNS', async () => {
    const neverAsked: HostResolver = async () => {
      throw new Error('DNS must not be asked');
    };
    for (const url of [
      'https://metadata.google.internal/',
      'https://metadata.google.internal./',
      'https://localhost/',
    ]) {
      await expect(vetVideoUrl(url, awsPolicy, neverAsked)).rejects.toThrow(UnsafeVideoUrlError);
    }
  });

  it('refuses URLs with credentials', async () => {
    await expect(vetVideoUrl('https://user:pw@cdn.example.com/v.mp4', awsPolicy, resolve)).rejects.toThrow(
      UnsafeVideoUrlError,
    );
  });

  it('reports a DNS failure as a (retryable) transfer error', async () => {
    await expect(vetVideoUrl('https://nowhere.example.com/v.mp4', awsPolicy, resolve)).rejects.toThrow(
      VideoTransferError,
    );
  });
});

describe('vetVideoUrl with allowed local hosts', () => {
  const policy: VideoUrlPolicy = { allowedHosts: parseAllowedHosts('127.0.0.1:4010,emulator.test:4020') };
  const resolve = dns({ 'emulator.test': ['127.0.0.1'] });

  it('fetches an allowed host:port over plain http although it is loopback', async () => {
    await expect(vetVideoUrl('http://127.0.0.1:4010/download/1.mp4', policy, resolve)).resolves.toMatchObject(
      {
        address: '127.0.0.1',
        allowListed: true,
      },
    );
    await expect(vetVideoUrl('http://emulator.test:4020/x.mp4', policy, resolve)).resolves.toMatchObject({
      address: '127.0.0.1',
      allowListed: true,
    });
  });

  it('allows only the listed port', async () => {
    await expect(vetVideoUrl('http://127.0.0.1:4011/x.mp4', policy, resolve)).rejects.toThrow(
      UnsafeVideoUrlError,
    );
    await expect(vetVideoUrl('http://127.0.0.1/x.mp4', policy, resolve)).rejects.toThrow(UnsafeVideoUrlError);
  });

  it('allows nothing else on loopback or private networks', async () => {
    await expect(vetVideoUrl('http://127.0.0.2:4010/x.mp4', policy, resolve)).rejects.toThrow(
      UnsafeVideoUrlError,
    );
    await expect(vetVideoUrl('https://169.254.169.254/', policy, resolve)).rejects.toThrow(
      UnsafeVideoUrlError,
    );
  });

  it('still lets public https through (the local stack may talk to the real Segmind)', async () => {
    const publicDns = dns({ 'cdn.example.com': ['93.184.216.34'] });
    await expect(vetVideoUrl('https://cdn.example.com/v.mp4', policy, publicDns)).resolves.toMatchObject({
      allowListed: false,
    });
  });
});
