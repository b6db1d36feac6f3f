import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { decompress, detectCompression } from '../../../src/image/compression.js';
import { gzip, HAVE_ZSTD, streamOf, zstd } from './tar-fixtures.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const PAYLOAD = Buffer.concat([Buffer.from('hello layer\n'.repeat(1000)), crypto.randomBytes(300_000)]);

describe('detectCompression', () => {
  it('knows gzip and zstd by their magic bytes, and anything else as plain', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0x00]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00]))).toBe('zstd');
    expect(detectCompression(Buffer.from('etc/passwd'))).toBe('none');
    expect(detectCompression(Buffer.from([0x28, 0xb5]))).toBe('none');
    expect(detectCompression(Buffer.alloc(0))).toBe('none');
  });
});

describe('decompress', () => {
  it('passes a plain stream through unchanged', async () => {
    expect((await readAll(decompress(streamOf(PAYLOAD)))).equals(PAYLOAD)).toBe(true);
  });

  it('gunzips', async () => {
    expect((await readAll(decompress(streamOf(gzip(PAYLOAD))))).equals(PAYLOAD)).toBe(true);
  });

  it('gunzips a layer that arrives in small chunks, gathered into megabytes on the way', async () => {
    const big = crypto.randomBytes(3 * 1024 * 1024 + 12345); // random: its gzip is as large, over several gatherings
    expect((await readAll(decompress(streamOf(gzip(big), 64 * 1024)))).equals(big)).toBe(true);
  });

  it.skipIf(!HAVE_ZSTD)('decodes zstd, including several frames in a row', async () => {
    expect((await readAll(decompress(streamOf(zstd(PAYLOAD), 1000)))).equals(PAYLOAD)).toBe(true);
    const twoFrames = Buffer.concat([zstd(Buffer.from('first ')), zstd(Buffer.from('second'))]);
    expect((await readAll(decompress(streamOf(twoFrames)))).toString()).toBe('first second');
  });

  it('recognises the format even when the magic bytes arrive one at a time', async () => {
    const compressed = gzip(PAYLOAD);
    const trickle = [...compressed.subarray(0, 8)].map((byte) => Buffer.from([byte]));
    const input = Readable.from([...trickle, compressed.subarray(8)], { objectMode: false });
    expect((await readAll(decompress(input))).equals(PAYLOAD)).toBe(true);
  });

  it('copes with streams shorter than any magic number', async () => {
    expect(await readAll(decompress(streamOf(Buffer.alloc(0))))).toEqual(Buffer.alloc(0));
    expect(await readAll(decompress(streamOf(Buffer.from([0x1f]))))).toEqual(Buffer.from([0x1f]));
  });

  it('fails on a damaged gzip stream', async () => {
    const damaged = gzip(PAYLOAD);
    damaged.fill(0x55, 20, 200);
    await expect(readAll(decompress(streamOf(damaged)))).rejects.toThrow();
  });

  it.skipIf(!HAVE_ZSTD)('fails on a truncated zstd stream', async () => {
    const compressed = zstd(PAYLOAD);
    await expect(readAll(decompress(streamOf(compressed.subarray(0, compressed.length - 50))))).rejects.toThrow();
  });

  it('passes on an error of the input', async () => {
    const broken = new Readable({ read() { this.destroy(new Error('disk on fire')); } });
    await expect(readAll(decompress(broken))).rejects.toThrow('disk on fire');
  });
});
