// The emulator downloads first-frame images as Segmind would, but on the user's machine: only from the
// hosts it is told to (the local s3rver), each redirect hop checked, and never anywhere else on loopback.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseHostList } from '#domain/url-safety';
import { checkImage } from '#emulator/image-check';
import {
  CHEAP_JOB,
  CHEAP_SHAPE,
  start,
  submitJob,
  type TestEmulator,
  waitForTerminal,
} from '#test/emulator/helpers';
import { type StubServer, startStub } from '#test/segmind/support/stub-server';
import { fakeDns } from '#test/support/hostile-urls';

let allowed: StubServer;
/** Another local server: what an attacker would point the image URL at. */
let inside: StubServer;
let emulator: TestEmulator;
/** Where `allowed` redirects /hop to, set by each test. */
let hop = '';

const hostPort = (server: StubServer): string => new URL(server.url).host;

beforeAll(async () => {
  allowed = await startStub((request, response) => {
    if (request.path === '/hop') response.writeHead(302, { location: hop }).end();
    else if (request.path === '/cat.png') response.writeHead(200, { 'content-type': 'image/png' }).end('png');
    else response.writeHead(404).end();
  });
  inside = await startStub((_request, response) => response.writeHead(200).end('secret'));
  emulator = await start({ timeScale: 1000, allowedImageHosts: [hostPort(allowed)] });
  await emulator.prepareVideos([CHEAP_SHAPE]);
});
afterAll(async () => {
  await Promise.all([allowed?.close(), inside?.close(), emulator?.stop()]);
});
afterEach(() => {
  allowed.requests.length = 0;
  inside.requests.length = 0;
});

const policy = () => ({ allowedHosts: parseHostList(hostPort(allowed), 'test'), resolve: fakeDns });

describe('checkImage', () => {
  it('downloads from an allowed host', async () => {
    expect(await checkImage(`${allowed.url}/cat.png`, policy())).toBeUndefined();
    expect(await checkImage(`${allowed.url}/gone.png`, policy())).toMatch(/HTTP 404/);
    expect(allowed.requests.map((r) => r.path)).toEqual(['/cat.png', '/gone.png']);
  });

  it('never connects to another local server', async () => {
    const error = await checkImage(`${inside.url}/x.png`, policy());
    expect(error).toMatch(/^Failed to download image from the given URL: the URL must use https/);
    expect(inside.requests).toEqual([]);
  });

  it.each([
    ['another local server', () => `${inside.url}/x.png`],
    ['the metadata address', () => 'https://169.254.169.254/latest/meta-data/'],
    ['a name that resolves to loopback', () => 'https://loopback.attacker.example/x.png'],
    ['an IPv4-mapped loopback', () => `http://[::ffff:127.0.0.1]:${new URL(inside.url).port}/x.png`],
  ])('refuses a redirect from an allowed host to %s', async (_what, target) => {
    hop = target();
    const error = await checkImage(`${allowed.url}/hop`, policy());
    expect(error).toMatch(/redirected to a URL that/);
    expect(inside.requests).toEqual([]);
  });

  it('trusts a public URL without fetching it (tests never leave the machine)', async () => {
    expect(await checkImage('https://images.example.com/cat.png', policy())).toBeUndefined();
  });
});

describe('a job whose image points inside', () => {
  it('fails like an unreachable image, and nothing inside was fetched', async () => {
    const submitted = await submitJob(emulator, { ...CHEAP_JOB, image: `${inside.url}/x.png` });
    const { body } = await waitForTerminal(emulator, submitted.status_url);
    expect(body.status).toBe('FAILED');
    expect(String(body.error)).toMatch(/Failed to download image/);
    expect(inside.requests).toEqual([]);
  });

  it('completes when the image is on the allowed host', async () => {
    const submitted = await submitJob(emulator, { ...CHEAP_JOB, image: `${allowed.url}/cat.png` });
    const { body } = await waitForTerminal(emulator, submitted.status_url);
    expect(body.status).toBe('COMPLETED');
    expect(allowed.requests.map((r) => r.path)).toEqual(['/cat.png']);
  });
});
