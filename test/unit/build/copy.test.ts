// COPY without a container (copy.ts): where each source lands in the image, resolved inside it; the layer's
// entries with their parents; and the checksum the cache compares.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyChecksum, copyLayer, planCopy, type CopyRequest } from '../../../src/build/copy.js';
import { contextTree, imageTree } from '../../../src/build/trees.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { temporaryTrees } from '../../helpers/trees.js';

const tree = temporaryTrees('build-copy');

const request = (sources: string[], destination: string, more: Partial<CopyRequest> = {}): CopyRequest =>
  ({ sources, destination, workdir: '/', keepOwners: false, ...more });

describe('planCopy', () => {
  const context = () => contextTree(tree({ 'a.txt': 'a', 'b.txt': 'b', 'dir/x': 'x', 'dir/sub/y': 'y', 'dir/link': '-> x' }), '');
  const image = (files: Record<string, string> = {}) => imageTree(fakeSyscalls(), [tree({ 'etc/': '', 'srv/': '', ...files })], 'the image');
  const targets = (items: ReturnType<typeof planCopy>) => items.map((item) => `${item.target} ${item.entry.type}`);

  it('puts a file at the destination, or into it when it ends in / or is a directory already', () => {
    expect(targets(planCopy(context(), image(), request(['a.txt'], '/new-name')))).toEqual(['/new-name file']);
    expect(targets(planCopy(context(), image(), request(['a.txt'], '/opt/')))).toEqual(['/opt/a.txt file']);
    expect(targets(planCopy(context(), image(), request(['a.txt'], '/srv')))).toEqual(['/srv/a.txt file']);
    expect(targets(planCopy(context(), image(), request(['a.txt'], 'rel', { workdir: '/app' })))).toEqual(['/app/rel file']);
    expect(targets(planCopy(context(), image(), request(['*.txt'], '.', { workdir: '/app' })))).toEqual(['/app/a.txt file', '/app/b.txt file']);
  });

  it('copies a directory\'s contents, not the directory, keeping symlinks as they are', () => {
    expect(targets(planCopy(context(), image(), request(['dir'], '/dest')))).toEqual([
      '/dest directory', '/dest/link symlink', '/dest/sub directory', '/dest/sub/y file', '/dest/x file',
    ]);
  });

  it('wants a directory ending in / for more than one source', () => {
    expect(() => planCopy(context(), image(), request(['a.txt', 'b.txt'], '/dest'))).toThrow('the destination must be a directory and end with a /');
    expect(() => planCopy(context(), image(), request(['*.txt'], '/dest'))).toThrow('end with a /');
    expect(() => planCopy(context(), image(), request(['missing'], '/dest'))).toThrow('missing: not found in the build context');
  });

  it('follows the image\'s symlinks inside the image, never out to the host', () => {
    const hostile = image({ 'app': '-> /srv', 'escape': '-> ../../../../../../etc', 'abs': `-> ${os.tmpdir()}` });
    expect(targets(planCopy(context(), hostile, request(['a.txt'], '/app/')))).toEqual(['/srv/a.txt file']);
    expect(targets(planCopy(context(), hostile, request(['a.txt'], '/escape/passwd')))).toEqual(['/etc/passwd file']);
    expect(targets(planCopy(context(), hostile, request(['dir'], '/abs/x')))[0]).toBe(`${os.tmpdir()}/x directory`); // the image's own path of that name
  });

  it('keeps sources inside the context: ".." stops at its root, a symlink out of it leads nowhere', () => {
    const source = contextTree(tree({ 'a.txt': 'a', 'out': '-> /etc', 'sub/': '' }), '');
    expect(targets(planCopy(source, image(), request(['../../a.txt'], '/x')))).toEqual(['/x file']);
    expect(() => planCopy(source, image(), request(['out/passwd'], '/x'))).toThrow('out/passwd: not found in the build context');
  });

  it('gives --chown and --chmod to everything copied; without them, files from the context are root\'s', () => {
    const items = planCopy(context(), image(), request(['dir'], '/d', { owner: { uid: 5, gid: 6 }, mode: 0o700 }));
    expect(new Set(items.map((item) => `${item.uid}:${item.gid} ${item.mode.toString(8)}`))).toEqual(new Set(['5:6 700']));
    expect(planCopy(context(), image(), request(['a.txt'], '/d'))[0]).toMatchObject({ uid: 0, gid: 0 });
  });
});

describe('copyLayer', () => {
  it('writes each parent once, as the image has it or new (0755), before its children', () => {
    const imageDir = tree({ 'srv/': '' });
    fs.chmodSync(path.join(imageDir, 'srv'), 0o750);
    const image = imageTree(fakeSyscalls(), [imageDir], 'the image');
    const contextDir = tree({ 'a.txt': 'a' });
    fs.chmodSync(path.join(contextDir, 'a.txt'), 0o644);
    const context = contextTree(contextDir, '');
    const items = planCopy(context, image, request(['a.txt'], '/srv/new/deeper/'));
    const entries = copyLayer(items, image, { uid: 7, gid: 7 }, new Date(0));
    expect(entries.map(({ header }) => `${header.name} ${header.type} ${header.mode.toString(8)} ${header.uid}`)).toEqual([
      'srv/ directory 750 0', 'srv/new/ directory 755 7', 'srv/new/deeper/ directory 755 7', 'srv/new/deeper/a.txt file 644 0',
    ]);
  });
});

describe('copyChecksum', () => {
  it('changes with a file\'s content, mode or owner, and not with its times', async () => {
    const dir = tree({ 'f': 'one' });
    const image = imageTree(fakeSyscalls(), [], 'the image');
    const sum = () => copyChecksum(planCopy(contextTree(dir, ''), image, request(['f'], '/f')));
    const first = await sum();
    fs.utimesSync(path.join(dir, 'f'), new Date(1000), new Date(1000));
    expect(await sum()).toBe(first);
    fs.chmodSync(path.join(dir, 'f'), 0o600);
    const chmodded = await sum();
    expect(chmodded).not.toBe(first);
    fs.writeFileSync(path.join(dir, 'f'), 'two');
    expect(await sum()).not.toBe(chmodded);
    const owned = await copyChecksum(planCopy(contextTree(dir, ''), image, request(['f'], '/f', { owner: { uid: 1, gid: 1 } })));
    expect(owned).not.toBe(await sum());
  });
});
