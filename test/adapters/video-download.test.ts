import { buffer } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HostResolver, parseAllowedHosts, type VideoUrlPolicy } from '#adapters/url-guard';
import { openVideoDownload } from '#adapters/video-download';
import { UnsafeVideoUrlError, VideoIntegrityError, VideoTransferError } from '#domain/errors';
import {
  mp4Like,
  serveBytes,
  serveTruncated,
  startVideoServer,
  type VideoServer,
} from '#test/adapters/video-fixtures';

let server: VideoServer;
let policy: VideoUrlPolicy;

beforeAll(async () => {
  server = await startVideoServer();
  policy = { allowedHosts: parseAllowedHosts(server.hostPort) };
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
});

const redirect =
  (location: string, status = 302) =>
  (_request: unknown, response: import('node:http').ServerResponse) => {
    response.writeHead(status, { location }).end();
  };

describe('openVideoDownload', () => {
  it('streams the body with its content type and length', async () => {
    const body = mp4Like(300_000);
    server.route('/good.mp4', serveBytes(body));
    const download = await openVideoDownload(`${server.origin}/good.mp4`, { policy });
    expect(download.contentType).toBe('video/mp4');
    expect(download.contentLength).toBe(body.length);
    expect((await buffer(download.body)).equals(body)).toBe(true);
  });

  it('refuses a URL that is not on the allow list before sending anything', async () => {
    await expect(
      openVideoDownload(`${server.origin}/good.mp4`, { policy: { allowedHosts: new Set() } }),
    ).rejects.toThrow(UnsafeVideoUrlError);
    expect(server.requests).toEqual([]);
  });

  it('connects to the vetted address, not to a second DNS answer (no rebinding)', async () => {
    const body = mp4Like(1000);
    server.route('/named.mp4', serveBytes(body));
    const named: VideoUrlPolicy = { allowedHosts: parseAllowedHosts(`video.test:${server.port}`) };
    let asked = 0;
    // Only the guard's resolver knows this name; the system DNS would fail on it.
    const resolve: HostResolver = async () => {
      asked += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const download = await openVideoDownload(`http://video.test:${server.port}/named.mp4`, {
      policy: named,
      resolve,
    });
    expect((await buffer(download.body)).equals(body)).toBe(true);
    expect(asked).toBe(1);
    expect(server.requests).toEqual([{ path: '/named.mp4', host: `video.test:${server.port}` }]);
  });

  it('asks DNS once per hop and connects to that answer: a name that turns to loopback later never reaches it (DNS rebinding)', async () => {
    let asked = 0;
    // Public when the guard checks it, loopback for anyone who asks again (a rebinding attacker's DNS).
    const rebinding: HostResolver = async () => {
      asked += 1;
      return [{ address: asked === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    };
    server.route('/rebind', redirect(`https://rebind.attacker.example:${server.port}/x.mp4`));
    await expect(
      openVideoDownload(`${server.origin}/rebind`, { policy, resolve: rebinding, connectTimeoutMs: 300 }),
    ).rejects.toThrow(VideoTransferError);
    expect(asked).toBe(1);
    expect(server.requests.map((r) => r.path)).toEqual(['/rebind']);
  });

  it('refuses a name that resolves to a private address when it is checked', async () => {
    const inside: HostResolver = async () => [{ address: '10.0.0.7', family: 4 }];
    server.route('/named-inside', redirect('https://files.attacker.example/x.mp4'));
    await expect(
      openVideoDownload(`${server.origin}/named-inside`, { policy, resolve: inside }),
    ).rejects.toThrow(/resolves to a private address, 10\.0\.0\.7/);
  });

  it('follows up to three redirects, relative or absolute, re-checking each hop', async () => {
    const body = mp4Like(5000);
    server.route('/r1', redirect('/r2', 301));
    server.route('/r2', redirect(`${server.origin}/r3`, 307));
    server.route('/r3', redirect('final.mp4', 308));
    server.route('/final.mp4', serveBytes(body));
    const download = await openVideoDownload(`${server.origin}/r1`, { policy });
    expect((await buffer(download.body)).equals(body)).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/r1', '/r2', '/r3', '/final.mp4']);
  });

  it('refuses a fourth redirect', async () => {
    server.route('/loop', redirect('/loop'));
    await expect(openVideoDownload(`${server.origin}/loop`, { policy })).rejects.toThrow(
      /redirected more than 3/,
    );
    expect(server.requests).toHaveLength(4);
  });

  it.each([
    ['the metadata service', 'http://169.254.169.254/latest/meta-data/'],
    ['another loopback port', 'http://127.0.0.1:1/x.mp4'],
    ['a private network', 'https://10.0.0.1/x.mp4'],
    ['an IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]:443/x.mp4'],
    ['plain http elsewhere', 'http://cdn.example.com/x.mp4'],
  ])('refuses a redirect to %s', async (_what, location) => {
    server.route('/evil', redirect(location));
    await expect(openVideoDownload(`${server.origin}/evil`, { policy })).rejects.toThrow(UnsafeVideoUrlError);
    expect(server.requests.map((r) => r.path)).toEqual(['/evil']);
  });

  it('reports an HTTP error status as a transfer error', async () => {
    await expect(openVideoDownload(`${server.origin}/missing.mp4`, { policy })).rejects.toThrow(
      new VideoTransferError(`The video server answered HTTP 404 for ${server.hostPort}`),
    );
  });

  it('refuses a compressed body, whose bytes are not the file', async () => {
    server.route(
      '/gz',
      serveBytes(Buffer.from('x'), { 'content-type': 'video/mp4', 'content-encoding': 'gzip' }),
    );
    await expect(openVideoDownload(`${server.origin}/gz`, { policy })).rejects.toThrow(VideoIntegrityError);
  });

  it('fails the body with a transfer error when the connection drops before Content-Length', async () => {
    server.route('/cut.mp4', serveTruncated(mp4Like(200_000), 50_000));
    const download = await openVideoDownload(`${server.origin}/cut.mp4`, { policy });
    await expect(buffer(download.body)).rejects.toThrow(VideoTransferError);
  });

  it('gives up when the server never answers', async () => {
    server.route('/silent', () => {});
    await expect(
      openVideoDownload(`${server.origin}/silent`, { policy, readTimeoutMs: 200 }),
    ).rejects.toThrow(/No answer from .* within 200 ms/);
  });

  it('gives up when the body stalls mid-way', async () => {
    server.route('/stall.mp4', (_request, response) => {
      response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 10_000 });
      response.write(mp4Like(1000));
    });
    const download = await openVideoDownload(`${server.origin}/stall.mp4`, { policy, readTimeoutMs: 200 });
    const error = await buffer(download.body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VideoTransferError);
    expect(String(error)).toMatch(/stalled for 200 ms/);
  });

  it('does not count time the consumer spends not reading as a stall', async () => {
    const body = mp4Like(2_000_000);
    server.route('/slow-reader.mp4', serveBytes(body));
    const download = await openVideoDownload(`${server.origin}/slow-reader.mp4`, {
      policy,
      readTimeoutMs: 150,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) {
      chunks.push(chunk as Buffer);
      // A consumer as slow as a congested S3 upload: the socket sits idle far longer than the read timeout.
      if (chunks.length === 1) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });

  it('aborts when the caller signals the deadline', async () => {
    server.route('/forever.mp4', (_request, response) => {
      response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 10_000_000 });
      response.write(mp4Like(1000));
    });
    const controller = new AbortController();
    const download = await openVideoDownload(`${server.origin}/forever.mp4`, { policy }, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(buffer(download.body)).rejects.toThrow(VideoTransferError);
  });
});
