// Crafted layer tars for the image tests, built in memory with tar-stream's
// pack(), so a test can say exactly which entries (honest or malicious) a
// layer holds, in which order.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { pack, type Header, type Pack } from 'tar-stream';

/** A tar header (name required), plus the data of a regular file. */
export type FixtureEntry = Partial<Header> & { name: string; content?: string | Buffer };

/** Entries default to this mtime, and to the current user, so unprivileged tests can unpack them. */
export const FIXTURE_MTIME = new Date('2020-02-02T02:02:02Z');

export async function buildTar(entries: FixtureEntry[]): Promise<Buffer> {
  const tar = pack();
  const collected = collect(tar);
  for (const entry of entries) await addEntry(tar, entry);
  tar.finalize();
  return collected;
}

function addEntry(tar: Pack, { content, ...header }: FixtureEntry): Promise<void> {
  const full = { mtime: FIXTURE_MTIME, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, ...header };
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    if (content === undefined && full.type && full.type !== 'file') tar.entry(full, done);
    else tar.entry(full, content ?? '', done);
  });
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const gzip = (tar: Buffer): Buffer => zlib.gzipSync(tar);

/** fzstd only decompresses, so zstd layers are made by the zstd command. */
export const zstd = (tar: Buffer): Buffer => execFileSync('zstd', ['-q', '-c', '-'], { input: tar });

export const HAVE_ZSTD = spawnSync('zstd', ['--version']).status === 0;

export const IS_ROOT = process.getuid?.() === 0;

/** `bytes` as a stream delivered in chunks of `chunkSize` bytes, like a file or socket would. */
export function streamOf(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) chunks.push(bytes.subarray(offset, offset + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

/** A fresh directory under the system's temp dir; the test removes it. */
export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-${label}-`));
}
