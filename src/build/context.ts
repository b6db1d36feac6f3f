// A build context that is not a directory of the host's: a tar, gzip'd or not, which the docker CLI uploads to
// the daemon and `tsrun build -` reads on stdin. It is unpacked into a directory of the store's tmp by the layers'
// own unpacker, which writes nothing outside it whatever the tar's names say; the Dockerfile is then a path
// inside it. On stdin, a plain Dockerfile is welcome too: docker build tells the two apart by looking (a tar, or
// not), and a Dockerfile alone makes a context that holds nothing else.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Runtime } from '../runtime.js';
import { fail } from '../errors.js';
import { unpackLayer } from '../image/unpack.js';
import { makeStagingDir } from '../store/atomic.js';
import { tmpDir } from '../store/paths.js';
import { isArchive } from './add.js';
import { contextTree, resolveIn } from './trees.js';

/** A context unpacked into `dir`, which the caller removes (`remove`) once the build is over. */
export interface UnpackedContext {
  dir: string;
  remove(): void;
}

// #region unpack-context
/** The tar in `input` unpacked into a new directory of the store's tmp. */
export async function unpackContext(runtime: Runtime, input: Readable): Promise<UnpackedContext> {
  const dir = makeStagingDir(tmpDir(runtime.paths), 'context');
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await unpackLayer(runtime.sys, input, dir, { unpaddedEnd: true });
  } catch (error) {
    remove();
    throw fail(`the build context is not a readable tar: ${(error as Error).message}`, 'send a tar of the context directory, gzip\'d or not', error);
  }
  return { dir, remove };
}

/** What came on stdin for `tsrun build -`: a context (a tar), or a Dockerfile (`dockerfileOnly`), which is then
 *  the whole context, named Dockerfile. */
export async function stdinContext(runtime: Runtime, input: Readable): Promise<UnpackedContext & { dockerfileOnly: boolean }> {
  const scratch = makeStagingDir(tmpDir(runtime.paths), 'stdin');
  try {
    const received = path.join(scratch, 'stdin');
    await pipeline(input, fs.createWriteStream(received));
    if (await isArchive(received)) return { ...await unpackContext(runtime, fs.createReadStream(received)), dockerfileOnly: false };
    const dir = makeStagingDir(tmpDir(runtime.paths), 'context');
    fs.renameSync(received, path.join(dir, 'Dockerfile'));
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }), dockerfileOnly: true };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
// #endregion

/** The Dockerfile `name` names inside an unpacked context, or undefined: a symlink on the way is followed inside
 *  the context, never out of it (the tar is someone else's; its Dockerfile could be a link to /etc/shadow). */
export function dockerfileIn(context: string, name: string): { text: string; name: string } | undefined {
  const tree = contextTree(context, '');
  const relative = resolveIn(tree, name, true);
  if (tree.entry(relative)?.type !== 'file') return undefined;
  return { text: fs.readFileSync(path.join(context, relative), 'utf8'), name: path.posix.basename(name) };
}
