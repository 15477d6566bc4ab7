import { describe, expect, it } from 'vitest';
import { vetUrl } from '#adapters/url-guard';
import { checkUrl, hostKeyOf, NO_ALLOWED_HOSTS, parseHostList } from '#domain/url-safety';
import { videoRequestSchema } from '#domain/video-request';
import { fakeDns, HOSTILE_URLS, PUBLIC_URLS } from '#test/support/hostile-urls';

describe('the URL rule, on AWS (nothing allow-listed)', () => {
  it('has a table of at least 40 hostile forms', () => {
    expect(HOSTILE_URLS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE_URLS)('refuses $url ($form)', async ({ url }) => {
    const vetting = await vetUrl(url, NO_ALLOWED_HOSTS, fakeDns);
    expect(vetting.ok).toBe(false);
  });

  it.each(PUBLIC_URLS)('accepts %s', async (url) => {
    const vetting = await vetUrl(url, NO_ALLOWED_HOSTS, fakeDns);
    expect(vetting).toMatchObject({ ok: true, target: { allowListed: false } });
  });

  it('refuses literal addresses and local names without any DNS, before the host is resolved', () => {
    const literal = HOSTILE_URLS.filter(({ url }) => !/attacker|nip|resolve/.test(url));
    for (const { url } of literal) expect(checkUrl(url, NO_ALLOWED_HOSTS), url).toMatchObject({ ok: false });
  });

  it('says what is wrong, and never echoes credentials', () => {
    expect(checkUrl('https://2130706433/', NO_ALLOWED_HOSTS)).toEqual({
      ok: false,
      reason: 'points to a loopback address, 127.0.0.1',
    });
    const credentials = checkUrl('https://admin:hunter2@images.example.com/', NO_ALLOWED_HOSTS);
    expect(credentials).toEqual({ ok: false, reason: 'must not carry a user name or password' });
  });
});

describe('the allow list', () => {
  const local = { allowedHosts: parseHostList('127.0.0.1:4569,[::1]:81', 'test') };

  it('lets exactly the named host:port through, over http too', () => {
    expect(checkUrl('http://127.0.0.1:4569/bucket/cat.png', local)).toMatchObject({
      ok: true,
      allowListed: true,
    });
    expect(checkUrl('http://[::1]:81/x', local)).toMatchObject({ ok: true, allowListed: true });
  });

  it('is not a hole: another port, another spelling of the port or the metadata address stay refused', () => {
    expect(checkUrl('http://127.0.0.1:4570/', local).ok).toBe(false);
    expect(checkUrl('https://127.0.0.1/', local).ok).toBe(false);
    expect(checkUrl('http://169.254.169.254/', local).ok).toBe(false);
  });

  it('keys hosts as the URL parser spells them', () => {
    expect(hostKeyOf(new URL('http://0x7f.1:4569/'))).toBe('127.0.0.1:4569');
    expect(hostKeyOf(new URL('https://Images.Example.com./'))).toBe('images.example.com:443');
    expect([...parseHostList(' LOCALHOST:9000 , [0:0::1]:81', 'x')]).toEqual(['localhost:9000', '[::1]:81']);
  });

  it.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:99999', 'http://127.0.0.1:80', 'a:1/path', 'u@h:1'])(
    'refuses the entry %s: it must name one server',
    (entry) => {
      expect(() => parseHostList(entry, 'LTX_ALLOWED_IMAGE_HOSTS')).toThrow(
        /LTX_ALLOWED_IMAGE_HOSTS: .* host:port/,
      );
    },
  );
});

describe('videoRequestSchema (the edge, the batch manifest and the upload path all parse it)', () => {
  it.each(HOSTILE_URLS.filter(({ url }) => !/attacker|nip|resolve/.test(url)))(
    'refuses imageUrl $url ($form), naming the field',
    ({ url }) => {
      const result = videoRequestSchema.safeParse({ prompt: 'a fox', imageUrl: url });
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((i) => [i.path.join('.'), i.message.split(' ')[0]])).toEqual([
        ['imageUrl', 'imageUrl'],
      ]);
    },
  );
});
