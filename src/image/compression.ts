// Layers travel compressed, and the media type that says how is not always
// trustworthy (a docker-archive names every layer "layer.tar"), so we look at
// the first bytes instead, the way `file` does:
//
//   1f 8b          gzip
//   28 b5 2f fd    zstd
//   anything else  a plain tar
//
// Node's zlib handles gzip; it has no zstd before Node 22, so zstd goes through
// fzstd, a decoder written in JavaScript.
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const LONGEST_MAGIC = ZSTD_MAGIC.length;

export function detectCompression(firstBytes: Buffer): Compression {
  if (startsWith(firstBytes, GZIP_MAGIC)) return 'gzip';
  if (startsWith(firstBytes, ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/** The uncompressed bytes of `input`, whatever it was compressed with.
 *  Destroying the returned stream destroys `input` too (once its first bytes have been seen). */
export function decompress(input: Readable): Readable {
  const output = new PassThrough();
  decompressInto(input, output).catch((error: Error) => {
    input.destroy();
    output.destroy(error);
  });
  return output;
}

async function decompressInto(input: Readable, output: PassThrough): Promise<void> {
  const { head, ended } = await peek(input, LONGEST_MAGIC);
  if (ended) {
    output.end(head); // too short to be compressed: those few bytes are all there is
    return;
  }
  await pipeline([input, ...decoderFor(detectCompression(head)), output]);
}

/** zlib hands back 16 KiB at a time by default; every hand-back is a trip through Node's thread
 *  pool, and a layer is often hundreds of megabytes. */
const GUNZIP_CHUNK = 256 * 1024;
/** The same goes for what it is given: a socket delivers 16-64 KiB at a time, and zlib works through
 *  a megabyte for about the cost of one such trip. */
const GUNZIP_INPUT = 1024 * 1024;

function decoderFor(kind: Compression): Transform[] {
  switch (kind) {
    case 'gzip': return [new Gather(GUNZIP_INPUT), zlib.createGunzip({ chunkSize: GUNZIP_CHUNK })];
    case 'zstd': return [new ZstdDecompress()];
    case 'none': return [];
  }
}

/** Passes its input on in pieces of at least `size` bytes (the last may be smaller). */
class Gather extends Transform {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly size: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length >= this.size) this.pushGathered();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.length > 0) this.pushGathered();
    callback();
  }

  private pushGathered(): void {
    this.push(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length));
    this.chunks = [];
    this.length = 0;
  }
}

/** fzstd's streaming decoder, which calls back with each decoded block, as a Node Transform. */
class ZstdDecompress extends Transform {
  // fzstd may reuse the memory it hands us, so each block is copied before it is queued.
  private readonly decoder = new ZstdStream((block) => void this.push(Buffer.from(block)));

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true); // throws if the input stopped mid-frame
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** The first `size` bytes of `input` (fewer if it ends sooner), left unread in the stream.
 *  `ended` says the stream is over: `head` is all of it, and it can no longer be read. */
function peek(input: Readable, size: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;

    const settle = (ended: boolean) => {
      input.off('readable', onReadable).off('end', onEnd).off('error', reject);
      const head = Buffer.concat(chunks);
      if (!ended) input.unshift(head); // put the bytes back for the decoder
      resolve({ head, ended });
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (length < size && (chunk = input.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= size) settle(false);
    };
    const onEnd = () => settle(true);

    input.on('readable', onReadable).once('end', onEnd).once('error', reject);
  });
}

function startsWith(bytes: Buffer, magic: Buffer): boolean {
  return bytes.length >= magic.length && bytes.subarray(0, magic.length).equals(magic);
}
