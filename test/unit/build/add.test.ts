// ADD (add.ts): a local tar archive unpacked into the destination, anything else copied as COPY copies it, a URL
// downloaded (mode 0600, the server's Last-Modified), and a URL that cannot be reached a clear error.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { planAdd } from '../../../src/build/add.js';
import { contextTree, imageTree } from '../../../src/build/trees.js';
import { tarBytes, type TarEntry } from '../../../src/image/tar-writer.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function dir(): string {
  const at = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-build-add-'));
  made.push(at);
  return at;
}

/** A tar of a directory and a file in it, owned by whoever runs the test (so that unpacking it needs no root). */
async function archive(): Promise<Buffer> {
  const content = path.join(dir(), 'content');
  fs.writeFileSync(content, 'from the archive\n');
  const [uid, gid] = [process.getuid!(), process.getgid!()];
  const entries: TarEntry[] = [
    { header: { name: 'pkg/', type: 'directory', mode: 0o750, uid, gid, mtime: new Date(0) } },
    { header: { name: 'pkg/readme', type: 'file', mode: 0o640, uid, gid, mtime: new Date(0), size: 17 }, file: content },
  ];
  const chunks: Buffer[] = [];
  for await (const chunk of tarBytes(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function plan(files: Record<string, string | Buffer>, sources: string[], destination: string) {
  const context = dir();
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(context, name), content);
  const image = imageTree(fakeSyscalls(), [dir()], 'the image');
  const items = await planAdd(fakeSyscalls(), contextTree(context, ''), image, { sources, destination, workdir: '/' }, dir());
  return items.map((item) => `${item.target} ${item.entry.type} ${item.mode.toString(8)}${item.entry.type === 'file' ? ` ${fs.readFileSync(item.entry.hostPath, 'utf8').trim()}` : ''}`);
}

describe('planAdd', () => {
  it('unpacks a local tar, plain or gzip\'d, into the destination; copies any other file as it is', async () => {
    const tar = await archive();
    const unpacked = ['/opt directory 755', '/opt/pkg directory 750', '/opt/pkg/readme file 640 from the archive'];
    expect(await plan({ 'pkg.tar': tar }, ['pkg.tar'], '/opt')).toEqual(unpacked);
    expect(await plan({ 'pkg.tar.gz': zlib.gzipSync(tar) }, ['pkg.tar.gz'], '/opt')).toEqual(unpacked);
    // Not a tar (text, an empty file, gzip'd text): copied, compressed or not, as COPY would.
    expect(await plan({ 'notes.txt': 'just text\n', 'empty': '' }, ['notes.txt', 'empty'], '/doc/')).toEqual(['/doc/notes.txt file 644 just text', '/doc/empty file 644 ']);
    expect((await plan({ 'text.gz': zlib.gzipSync('text') }, ['*.gz'], '/doc/'))[0]).toMatch(/^\/doc\/text\.gz file 644 /);
  });

  it('wants a directory ending in / for more than one source, as COPY does', async () => {
    await expect(plan({ 'a': 'a', 'b': 'b' }, ['a', 'b'], '/dest')).rejects.toThrow('the destination must be a directory and end with a /');
    await expect(plan({ 'a': 'a' }, ['missing'], '/dest')).rejects.toThrow('missing: not found in the build context');
  });

  it('downloads a URL: named as its path ends, mode 0600, the time the server says', async () => {
    const server = http.createServer((req, res) => {
      if (req.url !== '/files/tool.sh') return void res.writeHead(404).end();
      res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end('echo downloaded\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const context = contextTree(dir(), '');
      const image = imageTree(fakeSyscalls(), [dir()], 'the image');
      const items = await planAdd(fakeSyscalls(), context, image, { sources: [`${base}/files/tool.sh`], destination: '/usr/bin/', workdir: '/' }, dir());
      expect(items.map((item) => [item.target, item.mode, item.uid, item.entry.mtime.toISOString()])).toEqual([['/usr/bin/tool.sh', 0o600, 0, '2015-10-21T07:28:00.000Z']]);
      expect(fs.readFileSync(items[0]!.entry.hostPath, 'utf8')).toBe('echo downloaded\n');
      await expect(planAdd(fakeSyscalls(), context, image, { sources: [`${base}/nothing`], destination: '/x', workdir: '/' }, dir())).rejects.toThrow(/cannot download .*\/nothing: 404 Not Found/);
    } finally {
      server.close();
    }
  });

  it('fails clearly when the URL cannot be reached, as offline', async () => {
    const add = (url: string) => planAdd(fakeSyscalls(), contextTree(dir(), ''), imageTree(fakeSyscalls(), [dir()], 'the image'), { sources: [url], destination: '/x', workdir: '/' }, dir());
    await expect(add('http://no-such-host.invalid/file')).rejects.toMatchObject({
      message: expect.stringMatching(/^cannot download http:\/\/no-such-host\.invalid\/file: getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid$/),
      hint: 'ADD of a URL needs the network; without it, put the file in the build context and COPY it',
    });
    const closed = http.createServer().listen(0, '127.0.0.1'); // a port no one listens on any more
    await once(closed, 'listening');
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(add(`http://127.0.0.1:${port}/file`)).rejects.toThrow(`cannot download http://127.0.0.1:${port}/file: connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});
