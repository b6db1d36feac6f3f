// A context that comes as a tar (context.ts): unpacked into the store's tmp, told apart from a Dockerfile alone on
// stdin as docker build tells them apart, its Dockerfile found inside it and never through a link out of it.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerfileIn, stdinContext, unpackContext } from '../../../src/build/context.js';
import { tarBytes, type TarEntry } from '../../../src/image/tar-writer.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const stores: Array<ReturnType<typeof tempStore>> = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.remove();
});

function runtime() {
  const paths = tempStore();
  stores.push(paths);
  return { sys: fakeSyscalls(), paths };
}

/** A tar of `files` (a value starting with -> is a symlink), owned by whoever runs the test. */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const [uid, gid] = [process.getuid!(), process.getgid!()];
  const contents = runtime().paths.root;
  const entries: TarEntry[] = Object.entries(files).map(([name, content], i): TarEntry => {
    if (content.startsWith('->')) return { header: { name, type: 'symlink', linkname: content.slice(2), mode: 0o777, uid, gid, mtime: new Date(0) } };
    const file = path.join(contents, String(i));
    fs.writeFileSync(file, content);
    return { header: { name, type: 'file', mode: 0o644, uid, gid, mtime: new Date(0), size: Buffer.byteLength(content) }, file };
  });
  const chunks: Buffer[] = [];
  for await (const chunk of tarBytes(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** What the store's tmp holds: the contexts unpacked there, and anything left behind. */
const inTmp = (root: string) => fs.readdirSync(path.join(root, 'tmp'));

describe('stdinContext', () => {
  it('unpacks a tar on stdin, gzip\'d or not, and finds the Dockerfile -f names inside it', async () => {
    const tar = await tarOf({ 'app.txt': 'app\n', 'docker/web.Dockerfile': 'FROM busybox\n' });
    for (const bytes of [tar, zlib.gzipSync(tar)]) {
      const { sys, paths } = runtime();
      const context = await stdinContext({ sys, paths }, Readable.from([bytes]));
      expect(context.dockerfileOnly).toBe(false);
      expect(fs.readFileSync(path.join(context.dir, 'app.txt'), 'utf8')).toBe('app\n');
      expect(dockerfileIn(context.dir, 'docker/web.Dockerfile')).toEqual({ text: 'FROM busybox\n', name: 'web.Dockerfile' });
      expect(dockerfileIn(context.dir, 'Dockerfile')).toBeUndefined();
      expect(inTmp(paths.root)).toEqual([path.basename(context.dir)]); // what stdin brought is gone already
      context.remove();
      expect(inTmp(paths.root)).toEqual([]);
    }
  });

  it('takes anything that is not a tar for a Dockerfile, alone in its context', async () => {
    const { sys, paths } = runtime();
    const context = await stdinContext({ sys, paths }, Readable.from([Buffer.from('FROM busybox\nCOPY . /ctx/\n')]));
    expect(context.dockerfileOnly).toBe(true);
    expect(fs.readdirSync(context.dir)).toEqual(['Dockerfile']);
    expect(dockerfileIn(context.dir, 'Dockerfile')).toEqual({ text: 'FROM busybox\nCOPY . /ctx/\n', name: 'Dockerfile' });
    context.remove();
    expect(inTmp(paths.root)).toEqual([]);
  });
});

describe('unpackContext and dockerfileIn', () => {
  it('refuses bytes that are no tar, leaving nothing behind', async () => {
    const { sys, paths } = runtime();
    await expect(unpackContext({ sys, paths }, Readable.from([zlib.gzipSync('not a tar at all')]))).rejects.toThrow(/^the build context is not a readable tar: /);
    expect(inTmp(paths.root)).toEqual([]);
  });

  it('follows a link to the Dockerfile inside the context, never out of it', async () => {
    const { sys, paths } = runtime();
    const context = await unpackContext({ sys, paths }, Readable.from([await tarOf({ 'real': 'FROM x\n', 'Dockerfile': '->real', 'escape': '->/etc/hostname' })]));
    expect(dockerfileIn(context.dir, 'Dockerfile')?.text).toBe('FROM x\n');
    expect(dockerfileIn(context.dir, 'escape')).toBeUndefined();
    context.remove();
  });
});
