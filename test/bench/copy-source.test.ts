import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { hasMp4Signature } from '#domain/store-video';
import {
  MIN_SYNTHETIC_MP4_BYTES,
  SYNTHETIC_BLOCK_BYTES,
  type SyntheticVideoServer,
  startSyntheticVideoServer,
  syntheticMp4Chunks,
  syntheticMp4Header,
  syntheticMp4Sha256,
} from '../../bench/copy-source';

const whole = (sizeBytes: number, seed?: number): Buffer =>
  Buffer.concat([...syntheticMp4Chunks(sizeBytes, seed)]);

describe('the synthetic MP4', () => {
  it('starts with an ftyp box that store-video accepts as an MP4 signature', () => {
    const file = whole(4096);
    expect(hasMp4Signature(file)).toBe(true);
    expect(file.readUInt32BE(0)).toBe(32);
    expect(file.subarray(4, 12).toString('latin1')).toBe('ftypisom');
  });

  it('has one mdat box that runs exactly to the end of the file', () => {
    const size = 3 * SYNTHETIC_BLOCK_BYTES + 123;
    const file = whole(size);
    expect(file.subarray(36, 40).toString('latin1')).toBe('mdat');
    expect(32 + file.readUInt32BE(32)).toBe(size);
  });

  it('uses a 64-bit mdat size beyond 4 GiB', () => {
    const size = 5 * 1024 ** 3;
    const header = syntheticMp4Header(size);
    expect(header.readUInt32BE(32)).toBe(1);
    expect(header.subarray(36, 40).toString('latin1')).toBe('mdat');
    expect(32n + header.readBigUInt64BE(40)).toBe(BigInt(size));
  });

  it.each([
    MIN_SYNTHETIC_MP4_BYTES,
    MIN_SYNTHETIC_MP4_BYTES + 1,
    SYNTHETIC_BLOCK_BYTES,
    SYNTHETIC_BLOCK_BYTES + 45,
    2 * SYNTHETIC_BLOCK_BYTES + 40,
  ])('has exactly the requested %i bytes, in chunks no larger than a block', (size) => {
    const chunks = [...syntheticMp4Chunks(size)];
    expect(chunks.reduce((sum, chunk) => sum + chunk.length, 0)).toBe(size);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(SYNTHETIC_BLOCK_BYTES);
  });

  it('refuses sizes too small to hold its headers', () => {
    expect(() => [...syntheticMp4Chunks(MIN_SYNTHETIC_MP4_BYTES - 1)]).toThrow(RangeError);
    expect(() => [...syntheticMp4Chunks(1.5e6 + 0.5)]).toThrow(RangeError);
  });

  it('is the same bytes every time for a seed, and different bytes for another seed', () => {
    const size = 2 * SYNTHETIC_BLOCK_BYTES + 1000;
    const sha = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
    expect(syntheticMp4Sha256(size)).toBe(sha(whole(size)));
    expect(syntheticMp4Sha256(size, 1)).toBe(syntheticMp4Sha256(size, 1));
    expect(syntheticMp4Sha256(size, 2)).not.toBe(syntheticMp4Sha256(size, 1));
  });

  it('never repeats a block, so a copy that duplicates or drops one changes the hash', () => {
    const [, first, second] = [...syntheticMp4Chunks(40 + 2 * SYNTHETIC_BLOCK_BYTES)];
    expect(first?.length).toBe(SYNTHETIC_BLOCK_BYTES);
    expect(first?.equals(second ?? Buffer.alloc(0))).toBe(false);
  });
});

describe('the synthetic video server', () => {
  let server: SyntheticVideoServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the file on loopback with its length and type, as store-video expects', async () => {
    const size = SYNTHETIC_BLOCK_BYTES + 777;
    server = await startSyntheticVideoServer({ sizeBytes: size });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/video\.mp4$/);
    expect(server.url).toContain(server.hostPort);

    const response = await fetch(server.url);
    const body = Buffer.from(await response.arrayBuffer());

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-length')).toBe(String(size));
    expect(body.equals(whole(size))).toBe(true);
  });

  it('answers HEAD without a body and other paths with 404', async () => {
    server = await startSyntheticVideoServer({ sizeBytes: 4096 });
    const head = await fetch(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('4096');
    const missing = await fetch(server.url.replace('/video.mp4', '/other.mp4'));
    expect(missing.status).toBe(404);
  });
});
