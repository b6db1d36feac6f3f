// ADD: COPY, and two things more. A source that is a URL is downloaded (mode 0600, its time the Last-Modified
// header's, as Docker does); a local file that is a tar archive (plain, gzip or zstd) is unpacked into the
// destination, a directory then, with the owners and modes its entries have. Each is made into a file tree in a
// scratch directory and copied from there by COPY's own planCopy, so paths, --chown, --chmod and the cache's
// checksum work the same way for all three.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail } from '../errors.js';
import { decompress } from '../image/compression.js';
import { readTar } from '../image/tar-reader.js';
import { unpackLayer } from '../image/unpack.js';
import { contextTree, type SourceTree } from './trees.js';
import { namesDirectory, oneDestination, planCopy, sourcesFor, type CopyItem, type CopyRequest } from './copy.js';

/** A download that has not finished in this time has failed. */
const DOWNLOAD_TIMEOUT_MS = 60_000;

// #region plan-add
/** What ADD copies: like planCopy, each URL downloaded and each archive unpacked first, into `scratch`. */
export async function planAdd(sys: Syscalls, context: SourceTree, image: SourceTree, request: Omit<CopyRequest, 'keepOwners'>, scratch: string): Promise<CopyItem[]> {
  const items: CopyItem[] = [];
  let count = 0;
  const dirFor = () => {
    const dir = path.join(scratch, String(++count));
    fs.mkdirSync(dir, { mode: 0o755 });
    return dir;
  };
  const isUrl = (written: string) => /^https?:\/\//i.test(written);
  const found = request.sources.map((written) => ({ written, local: isUrl(written) ? [] : sourcesFor(context, written) }));
  if (found.reduce((sum, { local }) => sum + Math.max(local.length, 1), 0) > 1 && !namesDirectory(request.destination)) throw oneDestination(request.destination);

  for (const { written, local } of found) {
    if (isUrl(written)) {
      const dir = dirFor();
      const name = await download(written, dir, namesDirectory(request.destination));
      items.push(...planCopy(contextTree(dir, ''), image, { ...request, sources: [name], keepOwners: false }));
      continue;
    }
    for (const { relative, entry } of local) {
      if (entry.type === 'file' && await isArchive(entry.hostPath)) {
        // Its contents, not the archive, go into the destination, which is a directory whatever its spelling.
        const dir = dirFor();
        await unpackLayer(sys, fs.createReadStream(entry.hostPath), dir);
        items.push(...planCopy(contextTree(dir, ''), image, { ...request, sources: [''], keepOwners: true }));
      } else {
        items.push(...planCopy(context, image, { ...request, sources: [relative], keepOwners: false }));
      }
    }
  }
  return items;
}
// #endregion

/** Whether the file reads as a tar, once decompressed: its first header is one. */
export async function isArchive(file: string): Promise<boolean> {
  const input = fs.createReadStream(file);
  const entries = readTar(decompress(input));
  try {
    return (await entries.next()).done !== true; // an empty file has no first entry: nothing to unpack
  } catch {
    return false; // not a tar: the file is copied as it is
  } finally {
    input.destroy();
    await entries.return(undefined);
  }
}

/** The URL's file into `dir`, named as the URL's path ends; returns the name. */
async function download(url: string, dir: string, intoDirectory: boolean): Promise<string> {
  const name = path.posix.basename(new URL(url).pathname);
  if (name === '' && intoDirectory) throw fail(`cannot tell a file name from ${url}`, 'name the file: ADD URL /path/to/file');
  const file = path.join(dir, name || 'download');
  const offline = 'ADD of a URL needs the network; without it, put the file in the build context and COPY it';
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw fail(`cannot download ${url}: ${cause?.message ?? (error as Error).message}`, offline, error);
  }
  if (!response.ok || !response.body) throw fail(`cannot download ${url}: ${response.status} ${response.statusText}`, 'check the URL');
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), fs.createWriteStream(file, { mode: 0o600 }));
  fs.chmodSync(file, 0o600); // whatever the umask
  const modified = Date.parse(response.headers.get('last-modified') ?? '');
  if (!Number.isNaN(modified)) fs.utimesSync(file, new Date(modified), new Date(modified));
  return path.basename(file);
}
